"""The hidden practice exam that carries question sets a layer above draws itself (reviews, drills).

Its attempts are ordinary practice attempts (answer, check, explanation, result), started with
`attempt_start(version_ids=..., context=...)`; the context keeps each kind of set apart. The blueprint is
inactive, so the catalogue and the start pages never offer it.
"""

from django.db import IntegrityError, transaction

from quizapp.bank.models import Bank

from .models import PRACTICE_SLUG, ExamBlueprint


def practice_blueprint(bank: Bank) -> ExamBlueprint:
    """Get or create the bank's hidden practice blueprint (options reshuffled at every attempt)."""
    defaults = {
        "title": "Practice set",
        "description": "Questions chosen for you.",
        "mode": ExamBlueprint.Mode.PRACTICE,
        "question_count": 10,
        "duration_minutes": None,
        "domain_selection": ExamBlueprint.DomainSelection.WEIGHTED,
        "shuffle_options": True,
        "is_active": False,
        "position": 1000,
    }
    try:
        with transaction.atomic():
            blueprint, _ = ExamBlueprint.objects.get_or_create(bank=bank, slug=PRACTICE_SLUG, defaults=defaults)
    except IntegrityError:  # a concurrent first use created it
        blueprint = ExamBlueprint.objects.get(bank=bank, slug=PRACTICE_SLUG)
    return blueprint
