from django import template

register = template.Library()


@register.filter
def study_time(seconds):
    """ "2 h 05 min", "12 min", "under a minute": time studied, to the minute."""
    minutes = int(seconds or 0) // 60
    if minutes < 1:
        return "under a minute" if seconds else "no time"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@register.filter
def set_kind(attempt):
    """ "Review of mistakes", "Smart drill"...: what a question set drawn for the learner was (empty for an exam)."""
    from quizapp.progress.queries import context_label

    return context_label(attempt.context)
