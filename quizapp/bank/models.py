"""The question bank: banks own domains, topics, notes and questions; questions have frozen versions.

An attempt points at a QuestionVersion, never at a Question, so editing the bank (a new version) never changes
a past attempt, its review or its score.
"""

from django.conf import settings
from django.db import models


class BankQuerySet(models.QuerySet):
    def published(self):
        """Banks whose exams learners see."""
        return self.filter(status=Bank.Status.PUBLISHED)

    def editable_by(self, user):
        """Banks this user may edit: owned or co-edited (instructors), and ownerless banks for staff."""
        if not user.is_authenticated:
            return self.none()
        mine = models.Q(owner=user) | models.Q(editors=user)
        if not (user.is_staff or getattr(user, "is_instructor", False)):
            return self.none()
        if user.is_staff:
            mine |= models.Q(owner__isnull=True)
        return self.filter(mine).distinct()


class Bank(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    notes_source = models.TextField(blank=True, help_text="The notes file as written; exported unchanged.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_banks"
    )
    editors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="edited_banks")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BankQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    def can_manage(self, user) -> bool:
        """Whether `user` may change the bank itself (status, editors): its owner, or staff for ownerless banks."""
        if not user.is_authenticated:
            return False
        if self.owner_id is None:
            return user.is_staff
        return self.owner_id == user.pk and (user.is_staff or getattr(user, "is_instructor", False))


class Domain(models.Model):
    """A weighted section of the exam blueprint; the per-domain score breakdown uses these."""

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="domains")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    weight = models.PositiveSmallIntegerField(help_text="Percent of a full exam.")

    class Meta:
        ordering = ["bank", "number"]
        constraints = [models.UniqueConstraint(fields=["bank", "number"], name="unique_domain_number")]

    def __str__(self):
        return f"Domain {self.number}: {self.name}"


class TaskStatement(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="tasks")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=300)

    class Meta:
        ordering = ["domain", "code"]
        constraints = [models.UniqueConstraint(fields=["domain", "code"], name="unique_task_code")]

    def __str__(self):
        return f"{self.code} {self.name}"


class Topic(models.Model):
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="topics")
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    min_questions = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["bank", "name"]
        constraints = [models.UniqueConstraint(fields=["bank", "slug"], name="unique_topic_slug")]

    def __str__(self):
        return self.name


class Note(models.Model):
    """A study note a question rests on; the review shows it so a learner can go back to the source."""

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="notes")
    key = models.CharField(max_length=60)
    heading = models.CharField(max_length=300)
    text = models.TextField()
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["bank", "position"]
        constraints = [models.UniqueConstraint(fields=["bank", "key"], name="unique_note_key")]

    def __str__(self):
        return f"[{self.key}] {self.text}"


class QuestionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Question.Status.PUBLISHED, current_version__isnull=False)

    def search(self, text):
        """Questions whose key, stem or options contain `text` (case-insensitive)."""
        if not text:
            return self
        return self.filter(
            models.Q(key__icontains=text)
            | models.Q(current_version__stem__icontains=text)
            | models.Q(current_version__choices__text__icontains=text)
        ).distinct()


class Question(models.Model):
    """A question's identity in its bank; its content lives in versions."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PUBLISHED)
    current_version = models.OneToOneField(
        "QuestionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["bank", "key"]
        constraints = [models.UniqueConstraint(fields=["bank", "key"], name="unique_question_key")]

    def __str__(self):
        return self.key


class QuestionVersion(models.Model):
    """One frozen revision of a question: never edited after creation, only superseded."""

    class Kind(models.TextChoices):
        SINGLE = "single", "Single answer"
        MULTIPLE = "multiple", "Multiple response"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="question_versions")
    task = models.ForeignKey(TaskStatement, on_delete=models.PROTECT, related_name="question_versions")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="question_versions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    stem = models.TextField()
    explanation = models.TextField()
    references = models.JSONField(default=list, blank=True, help_text="Documentation URLs that back the key.")
    notes = models.ManyToManyField(Note, blank=True, related_name="question_versions")
    content_hash = models.CharField(max_length=64, help_text="Detects a changed question on reload.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question", "number"]
        constraints = [models.UniqueConstraint(fields=["question", "number"], name="unique_version_number")]

    def __str__(self):
        return f"{self.question.key} v{self.number}"

    @property
    def is_multiple(self):
        return self.kind == self.Kind.MULTIPLE

    def correct_choice_ids(self):
        """The ids of the correct choices (uses prefetched choices when present)."""
        return {choice.id for choice in self.choices.all() if choice.is_correct}


class Choice(models.Model):
    version = models.ForeignKey(QuestionVersion, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(help_text="Order in the bank file; attempts shuffle their own.")
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "position"]

    def __str__(self):
        return self.text


class QuestionReport(models.Model):
    """A learner's report of a problem with a question, tied to the version they saw; editors answer it."""

    class Kind(models.TextChoices):
        WRONG_ANSWER = "wrong_answer", "The marked answer is wrong"
        UNCLEAR = "unclear", "The question is unclear"
        OUT_OF_DATE = "out_of_date", "It is out of date"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    version = models.ForeignKey(QuestionVersion, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_reports")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    reply = models.TextField(blank=True, max_length=2000)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.version}"

    @property
    def is_open(self):
        return self.status == self.Status.OPEN


class ImportDraft(models.Model):
    """An uploaded file between its preview and the instructor's confirmation (the browser cannot re-send it)."""

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="import_drafts")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=200)
    file_format = models.CharField(max_length=20)
    content = models.BinaryField()
    defaults = models.JSONField(default=dict, blank=True)
    publish = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.file_name} for {self.bank}"
