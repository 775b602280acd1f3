"""Test data: factory_boy factories for every layer, plus `bank_with_questions` for a whole small bank."""

import factory

from quizapp.accounts.models import User
from quizapp.bank.models import Bank, Choice, Domain, Note, Question, QuestionVersion, TaskStatement, Topic
from quizapp.exams.models import ExamBlueprint

PASSWORD = "correct-horse-battery"
DOP_WEIGHTS = {1: 22, 2: 17, 3: 15, 4: 15, 5: 14, 6: 17}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password(PASSWORD)


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bank
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"bank-{n}")
    title = factory.LazyAttribute(lambda o: f"Bank {o.slug}")
    status = Bank.Status.PUBLISHED


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    bank = factory.SubFactory(BankFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"Domain {o.number}")
    weight = 100


class TaskStatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskStatement

    domain = factory.SubFactory(DomainFactory)
    code = factory.LazyAttribute(lambda o: f"{o.domain.number}.1")
    name = "A task statement"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    bank = factory.SubFactory(BankFactory)
    slug = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    bank = factory.SubFactory(BankFactory)
    key = factory.Sequence(lambda n: f"note-{n}")
    heading = "Notes / Heading"
    text = factory.Sequence(lambda n: f"study note number {n}")
    position = factory.Sequence(lambda n: n)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    bank = factory.SubFactory(BankFactory)
    key = factory.Sequence(lambda n: f"q-{n}")


class QuestionVersionFactory(factory.django.DjangoModelFactory):
    """A frozen, published version with choices: `choices__options` of them, the first `choices__correct` right."""

    class Meta:
        model = QuestionVersion
        skip_postgeneration_save = True

    question = factory.SubFactory(QuestionFactory)
    number = 1
    domain = factory.SubFactory(DomainFactory, bank=factory.SelfAttribute("..question.bank"))
    task = factory.LazyAttribute(
        lambda o: TaskStatement.objects.filter(domain=o.domain).first() or TaskStatementFactory(domain=o.domain)
    )
    topic = factory.LazyAttribute(
        lambda o: Topic.objects.filter(bank=o.question.bank).first() or TopicFactory(bank=o.question.bank)
    )
    kind = "single"
    stem = factory.LazyAttribute(lambda o: f"STEM-{o.question.key}-v{o.number}: a company needs a thing. What now?")
    explanation = factory.LazyAttribute(lambda o: f"EXPLANATION-{o.question.key}-v{o.number}: because of reasons.")
    content_hash = factory.LazyAttribute(lambda o: f"{o.question.key}-{o.number}")

    @factory.post_generation
    def choices(obj, create, extracted, options=4, correct=1, **kwargs):
        if not create:
            return
        Choice.objects.bulk_create(
            Choice(
                version=obj,
                position=i,
                text=f"Option {i} of {obj.question.key} v{obj.number}",
                is_correct=i <= correct,
                rationale=f"RATIONALE-{obj.question.key}-v{obj.number}-{i}",
            )
            for i in range(1, options + 1)
        )
        obj.question.current_version = obj
        obj.question.save(update_fields=["current_version"])


def make_version(*, domain, question=None, options=4, correct=1, number=1):
    """A published question version in `domain` with `options` choices, the first `correct` of them right."""
    return QuestionVersionFactory(
        question=question or QuestionFactory(bank=domain.bank),
        domain=domain,
        number=number,
        kind="multiple" if correct > 1 else "single",
        choices__options=options,
        choices__correct=correct,
    )


def bank_with_questions(*, per_domain=5, multiple_every=4, slug="test-bank"):
    """A bank shaped like DOP-C02 (six weighted domains) with `per_domain` questions in each."""
    bank = BankFactory(slug=slug, title="Test bank")
    for number, weight in DOP_WEIGHTS.items():
        domain = DomainFactory(bank=bank, number=number, weight=weight, name=f"Domain name {number}")
        for i in range(per_domain):
            multiple = multiple_every and i % multiple_every == multiple_every - 1
            make_version(domain=domain, options=5 if multiple else 4, correct=2 if multiple else 1)
    return bank


class BlueprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExamBlueprint

    bank = factory.SubFactory(BankFactory)
    slug = factory.Sequence(lambda n: f"exam-{n}")
    title = factory.Sequence(lambda n: f"Exam {n}")
    mode = ExamBlueprint.Mode.TIMED
    question_count = 6
    duration_minutes = 30
    pass_mark_percent = 75
    domain_selection = ExamBlueprint.DomainSelection.WEIGHTED


# --- Study groups ---------------------------------------------------------------------------------------------


class StudyGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "study_groups.StudyGroup"

    name = factory.Sequence(lambda n: f"Cohort {n}")
    owner = factory.SubFactory(UserFactory, role=User.Role.INSTRUCTOR)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "study_groups.Membership"

    group = factory.SubFactory(StudyGroupFactory)
    user = factory.SubFactory(UserFactory)


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An assignment open from an hour ago for a day; pass `opens_at` / `closes_at` to move the window."""

    class Meta:
        model = "study_groups.Assignment"

    group = factory.SubFactory(StudyGroupFactory)
    blueprint = factory.SubFactory(BlueprintFactory)
    opens_at = factory.LazyFunction(lambda: _now() - _hours(1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + _hours(25))
    attempt_limit = 1


def _now():
    from django.utils import timezone

    return timezone.now()


def _hours(n):
    from datetime import timedelta

    return timedelta(hours=n)
