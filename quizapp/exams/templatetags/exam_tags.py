from django import template

register = template.Library()


@register.filter
def duration_hms(value):
    """Format a timedelta as '1 h 02 min' or '4 min 05 s'."""
    if value is None:
        return "–"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s"
