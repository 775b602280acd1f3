"""The instructor's studio. Each view checks role and bank access first, then makes one service call."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from quizapp.accounts.access import instructor_required
from quizapp.audit.models import AuditEvent
from quizapp.audit.queries import page_context
from quizapp.bank import editing, formats, importing
from quizapp.bank.models import Bank, ImportDraft, Question, QuestionReport, QuestionVersion
from quizapp.exams import item_analysis, services
from quizapp.exams.models import ExamBlueprint

from .access import editable_bank, managed_bank
from .forms import (
    BankForm,
    BankSettingsForm,
    BlueprintForm,
    EditorForm,
    ImportForm,
    OptionFormSet,
    QuestionFilterForm,
    QuestionForm,
    ReportCloseForm,
    validate_question,
)

QUESTIONS_PER_PAGE = 25
FORM_METHODS = ["GET", "HEAD", "POST"]


@instructor_required
@require_safe
def home(request):
    banks = (
        Bank.objects.editable_by(request.user)
        .annotate(
            question_count=Count("questions", distinct=True),
            open_reports=Count(
                "questions__versions__reports",
                filter=Q(questions__versions__reports__status=QuestionReport.Status.OPEN),
                distinct=True,
            ),
        )
        .select_related("owner")
        .order_by("title")
    )
    return render(request, "studio/home.html", {"banks": banks})


@instructor_required
@require_http_methods(FORM_METHODS)
def bank_create(request):
    form = BankForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        bank = editing.bank_create(owner=request.user, **form.cleaned_data)
        messages.success(request, f"“{bank.title}” is ready as a draft: write its first questions.")
        return redirect("studio:bank", bank.slug)
    return render(request, "studio/bank_form.html", {"form": form})


@instructor_required
@require_safe
def bank_detail(request, slug):
    """The bank's question list: filters, search, pagination, and counts per domain against the weights."""
    bank = editable_bank(request, slug)
    filters = QuestionFilterForm(request.GET or None, bank=bank)
    questions = Question.objects.filter(bank=bank).select_related(
        "current_version__domain", "current_version__task", "current_version__topic"
    )
    if filters.is_valid():
        data = filters.cleaned_data
        questions = questions.search(data["q"])
        for field, lookup in [
            ("domain", "current_version__domain__number"),
            ("task", "current_version__task__code"),
            ("topic", "current_version__topic__slug"),
            ("status", "status"),
            ("type", "current_version__kind"),
        ]:
            if data[field]:
                questions = questions.filter(**{lookup: data[field]})
    page = Paginator(questions.order_by("key"), QUESTIONS_PER_PAGE).get_page(request.GET.get("page"))
    published = Question.objects.published().filter(bank=bank)
    per_domain = dict(published.values_list("current_version__domain__number").annotate(n=Count("id")).order_by())
    total = sum(per_domain.values())
    coverage = [
        {
            "domain": domain,
            "count": per_domain.get(domain.number, 0),
            "share": round(100 * per_domain.get(domain.number, 0) / total) if total else 0,
            "thin": total and 100 * per_domain.get(domain.number, 0) / total < domain.weight - 2,
        }
        for domain in bank.domains.all()
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "bank": bank,
        "filters": filters,
        "page": page,
        "coverage": coverage,
        "published_total": total,
        "query": query.urlencode(),
        "can_manage": bank.can_manage(request.user),
        "open_reports": QuestionReport.objects.filter(
            version__question__bank=bank, status=QuestionReport.Status.OPEN
        ).count(),
    }
    return render(request, "studio/bank_detail.html", context)


@instructor_required
@require_http_methods(FORM_METHODS)
def bank_settings(request, slug):
    bank = managed_bank(request, slug)
    form = BankSettingsForm(request.POST or None, instance=bank)
    if request.method == "POST" and form.is_valid():
        editing.bank_update(bank=bank, **form.cleaned_data)
        messages.success(request, "Bank settings saved.")
        return redirect("studio:bank", bank.slug)
    return render(request, "studio/bank_settings.html", {"bank": bank, "form": form})


@instructor_required
@require_http_methods(FORM_METHODS)
def bank_editors(request, slug):
    bank = managed_bank(request, slug)
    form = EditorForm(request.POST or None)
    if request.method == "POST" and "remove" in request.POST:
        editor_id = request.POST["remove"]
        if editor_id.isascii() and editor_id.isdigit():
            editing.bank_remove_editor(bank=bank, user_id=int(editor_id))
            messages.success(request, "Editor removed.")
        return redirect("studio:bank_editors", bank.slug)
    if request.method == "POST" and form.is_valid():
        try:
            user = editing.bank_add_editor(bank=bank, username=form.cleaned_data["username"])
        except editing.EditRefused as error:
            form.add_error("username", str(error))
        else:
            messages.success(request, f"{user.username} can now edit this bank.")
            return redirect("studio:bank_editors", bank.slug)
    return render(request, "studio/bank_editors.html", {"bank": bank, "form": form, "editors": bank.editors.all()})


@instructor_required
@require_safe
def bank_audit(request, slug):
    """The bank's part of the audit trail, for its owner (staff for an ownerless bank)."""
    bank = managed_bank(request, slug)
    context = {"bank": bank, **page_context(request, queryset=AuditEvent.objects.filter(bank_id=bank.pk))}
    return render(request, "studio/bank_audit.html", context)


# --- Questions --------------------------------------------------------------------------------------------------


def _question_or_404(bank, key):
    return get_object_or_404(Question.objects.select_related("current_version"), bank=bank, key=key)


def _initial_from_version(version):
    if version is None:
        return {"kind": QuestionVersion.Kind.SINGLE}, [{} for _ in range(4)]
    initial = {
        "domain": version.domain.number,
        "task": version.task.code,
        "topic": version.topic.slug,
        "kind": version.kind,
        "stem": version.stem,
        "explanation": version.explanation,
        "notes": " ".join(note.key for note in version.notes.all()),
        "references": "\n".join(version.references),
    }
    options = [{"text": c.text, "correct": c.is_correct, "rationale": c.rationale} for c in version.choices.all()]
    return initial, options


def _options_from_post(post):
    """The option rows as posted, in order (for re-rendering after "add" or "remove" without validating)."""
    try:
        total = min(int(post.get("options-TOTAL_FORMS", 0)), 12)
    except ValueError:
        total = 0
    return [
        {
            "text": post.get(f"options-{i}-text", ""),
            "correct": bool(post.get(f"options-{i}-correct")),
            "rationale": post.get(f"options-{i}-rationale", ""),
        }
        for i in range(total)
    ]


@instructor_required
@require_http_methods(FORM_METHODS)
def question_edit(request, slug, key=None):
    """Create or edit a question. "Add option" and "Remove" re-render the form (HTMX: just the form) unsaved."""
    bank = editable_bank(request, slug)
    question = _question_or_404(bank, key) if key else None
    version = question.current_version if question else None
    if request.method == "POST" and ("add_option" in request.POST or "remove_option" in request.POST):
        options = _options_from_post(request.POST)
        if "add_option" in request.POST and len(options) < 6:
            options.append({"text": "", "correct": False, "rationale": ""})
        remove = request.POST.get("remove_option", "")
        if remove.isascii() and remove.isdigit() and int(remove) < len(options):
            options.pop(int(remove))
        form = QuestionForm(initial=request.POST.dict(), bank=bank)
        formset = OptionFormSet(initial=options, prefix="options")
    elif request.method == "POST":
        form = QuestionForm(request.POST, bank=bank)
        formset = OptionFormSet(request.POST, prefix="options")
        data = validate_question(form, formset)
        if data is not None:
            data.key = question.key if question else editing.new_question_key(bank, data.stem)
            saved = editing.question_save(bank=bank, data=data, question=question)
            messages.success(request, "Question saved." if question else "Question saved as a draft.")
            return redirect("studio:question", bank.slug, saved.key)
    else:
        initial, options = _initial_from_version(version)
        form = QuestionForm(initial=initial, bank=bank)
        formset = OptionFormSet(initial=options, prefix="options")
    context = {"bank": bank, "question": question, "form": form, "formset": formset}
    if request.htmx and not request.htmx.boosted:
        return render(request, "studio/question_form.html#question_form", context)
    return render(request, "studio/question_form.html", context)


@instructor_required
@require_safe
def question_detail(request, slug, key):
    """A question as a learner sees it during a timed attempt and in the review, with its status and history."""
    bank = editable_bank(request, slug)
    question = _question_or_404(bank, key)
    version = question.current_version
    choices = []
    if version is not None:
        version = (
            QuestionVersion.objects.select_related("domain", "task", "topic")
            .prefetch_related("choices", "notes")
            .get(pk=version.pk)
        )
        choices = list(version.choices.all())
    context = {
        "bank": bank,
        "question": question,
        "version": version,
        "choices": choices,
        "versions": question.versions.order_by("-number").only("number", "created_at", "question_id"),
        "reports": QuestionReport.objects.filter(version__question=question).select_related("reporter")[:20],
        "next_statuses": editing.STATUS_CHANGES.get(question.status, set()),
    }
    return render(request, "studio/question_detail.html", context)


@instructor_required
@require_POST
def question_status(request, slug, key):
    bank = editable_bank(request, slug)
    question = _question_or_404(bank, key)
    try:
        editing.question_set_status(question=question, status=request.POST.get("status", ""))
    except editing.EditRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The question is now {question.get_status_display().lower()}.")
    return redirect("studio:question", bank.slug, question.key)


@instructor_required
@require_safe
def question_history(request, slug, key):
    """Every version, and a readable comparison of two of them (default: the last two)."""
    bank = editable_bank(request, slug)
    question = _question_or_404(bank, key)
    versions = list(
        question.versions.select_related("domain", "task", "topic")
        .prefetch_related("choices", "notes")
        .order_by("number")
    )
    by_number = {v.number: v for v in versions}

    def pick(name, default):
        value = request.GET.get(name, "")
        return by_number.get(int(value)) if value.isascii() and value.isdigit() else default

    newest = versions[-1] if versions else None
    new = pick("b", newest)
    old = pick("a", by_number.get(new.number - 1) if new else None)
    context = {
        "bank": bank,
        "question": question,
        "versions": versions,
        "old": old,
        "new": new,
        "diff": editing.version_diff(old, new) if old and new else None,
    }
    return render(request, "studio/question_history.html", context)


# --- Exams (blueprints) ---------------------------------------------------------------------------------------


@instructor_required
@require_safe
def blueprints(request, slug):
    bank = editable_bank(request, slug)
    return render(
        request,
        "studio/blueprints.html",
        {"bank": bank, "blueprints": bank.blueprints.authored().select_related("topic").order_by("position")},
    )


@instructor_required
@require_http_methods(FORM_METHODS)
def blueprint_edit(request, slug, blueprint_slug=None):
    bank = editable_bank(request, slug)
    blueprint = (
        get_object_or_404(ExamBlueprint.objects.authored(), bank=bank, slug=blueprint_slug) if blueprint_slug else None
    )
    form = BlueprintForm(request.POST or None, instance=blueprint, bank=bank)
    if request.method == "POST" and form.is_valid():
        shortfalls = services.blueprint_shortfalls(
            bank=bank,
            question_count=form.cleaned_data["question_count"],
            weights=form.cleaned_data["domain_weights"],
            domain_selection=form.cleaned_data["domain_selection"],
            topic=form.cleaned_data.get("topic"),
        )
        if shortfalls:
            form.add_error(None, "The bank cannot fill this exam yet:")
            for line in shortfalls:
                form.add_error(None, line)
        else:
            draft = form.save(commit=False)
            draft.domain_weights = form.cleaned_data["domain_weights"]
            saved = services.blueprint_save(bank=bank, blueprint=draft, slug=slugify(draft.title)[:60])
            messages.success(request, f"Exam “{saved.title}” saved.")
            return redirect("studio:blueprints", bank.slug)
    return render(request, "studio/blueprint_form.html", {"bank": bank, "form": form, "blueprint": blueprint})


# --- Item analysis and reports --------------------------------------------------------------------------------


@instructor_required
@require_safe
def analysis(request, slug):
    bank = editable_bank(request, slug)
    stats = item_analysis.bank_item_analysis(bank.pk)
    for row in stats:  # the shares of the newest version's options (older versions are counted apart)
        newest = max((option.version_number for option in row.option_counts), default=0)
        row.current_options = [option for option in row.option_counts if option.version_number == newest]
    flagged_only = request.GET.get("show") == "flagged"
    rows = [s for s in stats if s.flags] if flagged_only else stats
    context = {
        "bank": bank,
        "rows": rows,
        "flagged_only": flagged_only,
        "any_answers": any(s.answered for s in stats),
    }
    return render(request, "studio/analysis.html", context)


def _report_rows(bank, show, failed=None):
    """The reports to list, each open one with its own reply form (prefixed, so ids never repeat on the page)."""
    items = QuestionReport.objects.filter(version__question__bank=bank).select_related(
        "version__question", "reporter", "replied_by"
    )
    if show == "open":
        items = items.filter(status=QuestionReport.Status.OPEN)
    else:
        items = items.exclude(status=QuestionReport.Status.OPEN)
    rows = []
    for report in items[:100]:
        form = None
        if report.is_open:
            form = failed if failed is not None and failed.prefix == f"report-{report.pk}" else None
            form = form or ReportCloseForm(prefix=f"report-{report.pk}")
        rows.append((report, form))
    return rows


@instructor_required
@require_safe
def reports(request, slug):
    bank = editable_bank(request, slug)
    show = "closed" if request.GET.get("show") == "closed" else "open"
    return render(request, "studio/reports.html", {"bank": bank, "rows": _report_rows(bank, show), "show": show})


@instructor_required
@require_POST
def report_close(request, slug, report_id):
    bank = editable_bank(request, slug)
    report = get_object_or_404(QuestionReport, pk=report_id, version__question__bank=bank)
    if not report.is_open:
        raise Http404("This report is closed.")
    form = ReportCloseForm(request.POST, prefix=f"report-{report.pk}")
    if form.is_valid():
        editing.report_close(report=report, by=request.user, now=timezone.now(), **form.cleaned_data)
        messages.success(request, "Reply sent: the learner sees it on their dashboard.")
        return redirect("studio:reports", bank.slug)
    context = {"bank": bank, "rows": _report_rows(bank, "open", failed=form), "show": "open"}
    return render(request, "studio/reports.html", context, status=422)


# --- Import and export ----------------------------------------------------------------------------------------

EXPORT_FILES = {
    "gift": ("gift.txt", "text/plain"),
    "aiken": ("aiken.txt", "text/plain"),
    "moodle-xml": ("moodle.xml", "application/xml"),
    "csv": ("csv", "text/csv"),
    "native": ("yaml", "application/yaml"),
}
DRAFT_LIFETIME = timedelta(days=1)


def _parse_draft(draft):
    defaults = formats.Defaults(**draft.defaults)
    return importing.read_upload(bytes(draft.content), draft.file_format, source=draft.file_name, defaults=defaults)


@instructor_required
@require_http_methods(FORM_METHODS)
def import_questions(request, slug):
    """Upload a file and read its dry-run preview; nothing is written to the bank until the confirmation."""
    bank = editable_bank(request, slug)
    form = ImportForm(request.POST or None, request.FILES or None, bank=bank)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > formats.MAX_BYTES:
            form.add_error(
                "file", f"The file is {upload.size // 1024} KiB; the limit is {formats.MAX_BYTES // 1024} KiB."
            )
        else:
            ImportDraft.objects.filter(created_at__lt=timezone.now() - DRAFT_LIFETIME).delete()
            draft = ImportDraft.objects.create(
                bank=bank,
                uploaded_by=request.user,
                file_name=upload.name[:200],
                file_format=form.cleaned_data["file_format"],
                content=upload.read(),
                defaults={k: form.cleaned_data[k] or None for k in ("domain", "task", "topic")},
                publish=form.cleaned_data["publish"],
            )
            return redirect("studio:import_preview", bank.slug, draft.pk)
    return render(request, "studio/import.html", {"bank": bank, "form": form})


@instructor_required
@require_http_methods(FORM_METHODS)
def import_preview(request, slug, draft_id):
    """The preview of an uploaded file; POST confirms it: every question in one transaction, or nothing."""
    bank = editable_bank(request, slug)
    draft = get_object_or_404(ImportDraft, pk=draft_id, bank=bank, uploaded_by=request.user)
    refused = None
    try:
        result = _parse_draft(draft)
    except formats.FormatError as error:
        result, refused = None, error.problems
    preview = importing.import_preview(bank=bank, result=result) if result is not None else None
    if request.method == "POST" and preview is not None and preview.ok:
        try:
            importing.import_apply(bank=bank, result=result, publish=draft.publish, file_name=draft.file_name)
        except importing.ImportRefused as error:
            preview = error.preview
        else:
            draft.delete()
            messages.success(request, f"Imported from {draft.file_name}: {preview.summary()}.")
            return redirect("studio:bank", bank.slug)
    context = {"bank": bank, "draft": draft, "preview": preview, "refused": refused}
    status = 422 if request.method == "POST" else 200
    return render(request, "studio/import_preview.html", context, status=status)


@instructor_required
@require_safe
def export_questions(request, slug):
    """The export page, and with ?format= the file itself as a download."""
    bank = editable_bank(request, slug)
    fmt = request.GET.get("format")
    if fmt is None:
        return render(request, "studio/export.html", {"bank": bank, "formats": EXPORT_FILES})
    if fmt not in EXPORT_FILES:
        raise Http404("No such format.")
    exported = formats.export(importing.bank_questions_for_export(bank), fmt)
    extension, content_type = EXPORT_FILES[fmt]
    response = HttpResponse(exported.text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{bank.slug}.{extension}"'
    response["X-Questions-Skipped"] = str(len(exported.skipped))
    return response
