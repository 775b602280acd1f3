"""Grading lives here and only here."""


def is_response_correct(*, selected_ids, correct_ids) -> bool:
    """All-or-nothing, as on the real exam: exactly the correct choices, no more and no fewer."""
    return bool(correct_ids) and set(selected_ids) == set(correct_ids)


def estimated_scaled_score(percent: float, *, pass_mark_percent: int = 75) -> int:
    """Map a raw percentage onto AWS's 100-1,000 scale so that the pass mark lands on 750.

    The real exam is equated across forms, so this is an estimate: linear from 100 to 750 up to the pass mark,
    then linear from 750 to 1,000.
    """
    percent = max(0.0, min(100.0, percent))
    if percent <= pass_mark_percent:
        return round(100 + 650 * percent / pass_mark_percent)
    return round(750 + 250 * (percent - pass_mark_percent) / (100 - pass_mark_percent))
