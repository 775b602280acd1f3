"""Store each learner's first exposure to a question on the slot, so item analysis reads a flag, not a window."""

from django.db import migrations, models
from django.db.models import F, Window
from django.db.models.functions import RowNumber


def mark_first_exposures(apps, schema_editor):
    """Flag the slot of each learner's first finished attempt (by finish time) that drew any version of a question.

    The same rule as attempt_finish applies from now on, which decides in the order attempts finish; the finish
    time is what is left of that order. Ties (two attempts finished at the same moment) go to the attempt id and
    then the position, so that exactly one slot per learner and question is flagged. One UPDATE, on SQLite and
    PostgreSQL alike.
    """
    AttemptSlot = apps.get_model("exams", "AttemptSlot")
    slots = AttemptSlot.objects.using(schema_editor.connection.alias)
    first = (
        slots.filter(attempt__state="finished")
        .annotate(
            exposure=Window(
                RowNumber(),
                partition_by=[F("attempt__user_id"), F("question_version__question_id")],
                order_by=[
                    F("attempt__finished_at").asc(nulls_last=True),
                    F("attempt_id").asc(),
                    F("position").asc(),
                ],
            )
        )
        .filter(exposure=1)
        .order_by()
        .values("pk")
    )
    slots.filter(pk__in=first).update(is_first_exposure=True)


class Migration(migrations.Migration):
    dependencies = [
        ("bank", "0004_import_drafts"),
        ("exams", "0005_attempt_context_and_review_time"),
    ]

    operations = [
        migrations.AddField(
            model_name="attemptslot",
            name="is_first_exposure",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_first_exposures, migrations.RunPython.noop, elidable=True),
        # After the data, so that the index is built once rather than updated row by row.
        migrations.AddIndex(
            model_name="attemptslot",
            index=models.Index(
                condition=models.Q(("is_first_exposure", True)),
                fields=[
                    "question_version",
                    "is_first_exposure",
                    "attempt",
                    "is_correct",
                    "seconds_spent",
                    "selected_choice_ids",
                ],
                name="slot_first_exposure",
            ),
        ),
    ]
