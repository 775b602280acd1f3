"""The studio's forms. Question rules are the file format's (bankfile.py), reported next to the field they concern."""

import re

from django import forms
from django.forms import formset_factory

from quizapp.bank import bankfile
from quizapp.bank.editing import QuestionData
from quizapp.bank.models import Bank, Question, QuestionReport, QuestionVersion, TaskStatement
from quizapp.exams.models import ExamBlueprint

CHOOSE = re.compile(r"\(Choose (\w+)\.\)\s*$")
WORD_NUMBERS = {v: k for k, v in bankfile.CHOOSE_WORDS.items()}
MAX_OPTIONS = 6


class BankForm(forms.ModelForm):
    class Meta:
        model = Bank
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class BankSettingsForm(forms.ModelForm):
    class Meta:
        model = Bank
        fields = ["title", "description", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"status": "Learners see the exams of published banks only."}


class EditorForm(forms.Form):
    username = forms.CharField(max_length=150, label="Instructor's username")


class QuestionFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    domain = forms.ChoiceField(required=False)
    task = forms.ChoiceField(required=False, label="Task statement")
    topic = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Question.Status.choices])
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *QuestionVersion.Kind.choices])

    def __init__(self, *args, bank, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "Any domain")] + [
            (str(d.number), f"{d.number} · {d.name}") for d in bank.domains.all()
        ]
        tasks = TaskStatement.objects.filter(domain__bank=bank).order_by("code").values_list("code", flat=True)
        self.fields["task"].choices = [("", "Any task")] + [(code, code) for code in tasks]
        self.fields["topic"].choices = [("", "Any topic")] + list(bank.topics.values_list("slug", "name"))


class OptionForm(forms.Form):
    text = forms.CharField(label="Option text", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    correct = forms.BooleanField(label="Correct", required=False)
    rationale = forms.CharField(
        label="Rationale", required=False, help_text="One line: why this option is right or wrong."
    )


OptionFormSet = formset_factory(OptionForm, extra=0, max_num=MAX_OPTIONS, absolute_max=MAX_OPTIONS)


class QuestionForm(forms.Form):
    domain = forms.TypedChoiceField(coerce=int, label="Domain")
    task = forms.ChoiceField(label="Task statement")
    topic = forms.ChoiceField(label="Topic")
    kind = forms.ChoiceField(label="Type", choices=QuestionVersion.Kind.choices)
    stem = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Scenario and question",
        help_text="2–6 sentences. A multiple-response stem ends with “(Choose TWO.)” or “(Choose THREE.)”.",
    )
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="40–150 words: why the answer is right and each distractor is not.",
    )
    notes = forms.CharField(required=False, label="Note ids", help_text="Separated by commas or spaces.")
    references = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="References",
        help_text="Up to three AWS documentation URLs, one per line.",
    )

    def __init__(self, *args, bank, **kwargs):
        super().__init__(*args, **kwargs)
        self.bank = bank
        self.domains = {d.number: d for d in bank.domains.prefetch_related("tasks")}
        self.tasks = {t.code: t for d in self.domains.values() for t in d.tasks.all()}
        self.topics = {t.slug: t for t in bank.topics.all()}
        self.notes = {n.key: n for n in bank.notes.all()}
        self.fields["domain"].choices = [(n, f"{n} · {d.name}") for n, d in self.domains.items()]
        self.fields["task"].choices = [(code, f"{code} {t.name}") for code, t in self.tasks.items()]
        self.fields["topic"].choices = [(slug, t.name) for slug, t in self.topics.items()]

    def clean_notes(self):
        keys = [k for k in re.split(r"[\s,]+", self.cleaned_data["notes"]) if k]
        unknown = [k for k in keys if k not in self.notes]
        if unknown:
            raise forms.ValidationError(f"Not a note of this bank: {', '.join(unknown)}.")
        return [self.notes[k] for k in dict.fromkeys(keys)]

    def clean_references(self):
        urls = [line.strip() for line in self.cleaned_data["references"].splitlines() if line.strip()]
        if urls:
            problems = bankfile.reference_problems(urls)
            if problems:
                raise forms.ValidationError(problems)
        return urls

    def clean(self):
        data = super().clean()
        domain, task = self.domains.get(data.get("domain")), self.tasks.get(data.get("task"))
        if domain and task and task.domain_id != domain.pk:
            self.add_error(
                "task", f"Task {task.code} belongs to domain {task.code.split('.')[0]}, not {domain.number}."
            )
        return data


def option_rows(formset) -> list[dict]:
    """The options the author kept, in order (empty rows without text are ignored)."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
        if data.get("text", "").strip() or data.get("rationale", "").strip() or data.get("correct"):
            rows.append({"form": form, **data})
    return rows


def validate_question(form: QuestionForm, formset) -> QuestionData | None:
    """Check the form and its options together; put each problem next to its field. None if anything is wrong."""
    valid = form.is_valid() & formset.is_valid()
    if not formset.is_valid():
        return None
    rows = option_rows(formset)
    for row in rows:
        if not row.get("text", "").strip():
            row["form"].add_error("text", "Write the option's text, or remove the option.")
        if not row.get("rationale", "").strip():
            row["form"].add_error("rationale", "Write a one-line rationale: the review shows it to learners.")
        elif "\n" in row["rationale"]:
            row["form"].add_error("rationale", "Keep the rationale to one line.")
    texts = [row.get("text", "").strip() for row in rows]
    if len(set(texts)) != len(texts):
        form.add_error(None, "Two options have the same text.")
    if not valid:
        return None
    kind, stem = form.cleaned_data["kind"], form.cleaned_data["stem"].strip()
    correct = sum(1 for row in rows if row.get("correct"))
    if len(rows) < 4:
        form.add_error(None, f"A question needs at least four options; this one has {len(rows)}.")
    choose = CHOOSE.search(stem)
    if kind == QuestionVersion.Kind.SINGLE:
        if len(rows) != 4 and len(rows) >= 4:
            form.add_error("kind", f"A single-answer question has exactly four options; this one has {len(rows)}.")
        if correct != 1:
            form.add_error("kind", f"A single-answer question has exactly one correct option; {correct} are marked.")
        if "Choose" in stem:
            form.add_error("stem", "A single-answer stem does not say “Choose …”.")
    else:
        if len(rows) not in (5, 6) and len(rows) >= 4:
            form.add_error("kind", f"A multiple-response question has five or six options; this one has {len(rows)}.")
        if correct not in (2, 3):
            form.add_error("kind", f"A multiple-response question has two or three correct options; {correct} marked.")
        elif not choose:
            form.add_error("stem", f"End the stem with “(Choose {bankfile.CHOOSE_WORDS[correct]}.)”.")
        elif WORD_NUMBERS.get(choose.group(1)) != correct:
            form.add_error(
                "stem", f"The stem says “Choose {choose.group(1)}” but {correct} options are marked correct."
            )
    words = bankfile.words(form.cleaned_data["explanation"])
    if not 40 <= words <= 150:
        form.add_error("explanation", f"The explanation has {words} words; write 40–150.")
    sentences = bankfile.sentences(stem)
    if not 2 <= sentences <= 7:
        form.add_error("stem", f"The stem has {sentences} sentence(s); write a scenario of 2–6.")
    if bankfile.FORBIDDEN_OPTIONS.search(" ".join(texts)):
        form.add_error(None, "No “all of the above” or “none of the above” options.")
    topic = form.topics[form.cleaned_data["topic"]]
    if form.notes and not form.cleaned_data["notes"] and not topic.min_questions:
        form.add_error("notes", "Cite at least one note id (only a topic without notes may cite none).")
    if form.errors or any(row["form"].errors for row in rows):
        return None
    return QuestionData(
        key="",
        domain=form.domains[form.cleaned_data["domain"]],
        task=form.tasks[form.cleaned_data["task"]],
        topic=form.topics[form.cleaned_data["topic"]],
        notes=form.cleaned_data["notes"],
        kind=kind,
        stem=stem,
        options=[{k: row[k] for k in ("text", "correct", "rationale")} for row in rows],
        explanation=form.cleaned_data["explanation"].strip(),
        references=form.cleaned_data["references"],
    )


class BlueprintForm(forms.ModelForm):
    class Meta:
        model = ExamBlueprint
        fields = [
            "title",
            "description",
            "mode",
            "question_count",
            "duration_minutes",
            "pass_mark_percent",
            "domain_selection",
            "topic",
            "shuffle_options",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"is_active": "Offered to learners", "duration_minutes": "Duration (minutes)"}
        help_texts = {"duration_minutes": "Minutes. A timed exam needs it; a practice exam is untimed."}

    def __init__(self, *args, bank, **kwargs):
        super().__init__(*args, **kwargs)
        self.bank = bank
        if not self.instance.pk:  # a new exam starts as the real exam's pace in a lunch break
            self.initial.setdefault("mode", ExamBlueprint.Mode.TIMED)
            self.initial.setdefault("question_count", 20)
            self.initial.setdefault("duration_minutes", 48)
            self.initial.setdefault("domain_selection", ExamBlueprint.DomainSelection.WEIGHTED)
        self.fields["topic"].queryset = bank.topics.all()
        self.fields["topic"].required = False
        self.fields["topic"].empty_label = "Any topic"
        self.fields["question_count"].min_value = 1
        self.domains = list(bank.domains.all())
        weights = (self.instance.domain_weights or {}) if self.instance.pk else {}
        for domain in self.domains:
            self.fields[f"weight_{domain.number}"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=100,
                label=f"Weight of domain {domain.number}",
                help_text=f"{domain.name}; empty: the bank's {domain.weight}.",
                initial=weights.get(str(domain.number)),
            )

    def weight_fields(self):
        return [self[f"weight_{d.number}"] for d in self.domains]

    def clean(self):
        data = super().clean()
        if data.get("mode") == ExamBlueprint.Mode.TIMED and not data.get("duration_minutes"):
            self.add_error("duration_minutes", "A timed exam needs a duration.")
        weights = {str(d.number): data.get(f"weight_{d.number}") for d in self.domains}
        chosen = {number: weight for number, weight in weights.items() if weight is not None}
        if chosen and not any(chosen.values()):
            self.add_error(None, "At least one domain needs a weight above zero.")
        data["domain_weights"] = chosen
        return data


class ReportCloseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(QuestionReport.Status.RESOLVED, "Resolve"), (QuestionReport.Status.DISMISSED, "Dismiss")],
        widget=forms.RadioSelect,
        label="Outcome",
    )
    reply = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Reply to the learner")


IMPORT_FORMATS = [
    ("gift", "GIFT (Moodle)"),
    ("moodle-xml", "Moodle XML"),
    ("aiken", "Aiken"),
    ("csv", "CSV"),
    ("native", "This app's YAML or JSON"),
]


class ImportForm(forms.Form):
    file = forms.FileField(label="File", help_text="Up to 5 MB and 2,000 questions, UTF-8.")
    file_format = forms.ChoiceField(choices=IMPORT_FORMATS, label="Format")
    domain = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Domain for questions that name none"
    )
    task = forms.ChoiceField(required=False, label="Task statement for questions that name none")
    topic = forms.ChoiceField(required=False, label="Topic for questions that name none")
    publish = forms.BooleanField(
        required=False, initial=True, label="Publish the imported questions that meet every rule"
    )

    def __init__(self, *args, bank, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "—")] + [(d.number, f"{d.number} · {d.name}") for d in bank.domains.all()]
        tasks = TaskStatement.objects.filter(domain__bank=bank).order_by("code")
        self.fields["task"].choices = [("", "—")] + [(t.code, f"{t.code} {t.name}") for t in tasks]
        self.fields["topic"].choices = [("", "—")] + list(bank.topics.values_list("slug", "name"))
