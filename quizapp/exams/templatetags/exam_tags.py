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


@register.filter
def clock(seconds):
    """Format whole seconds as the countdown does: '2:59:59' or '47:59'."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


@register.filter
def palette_classes(slot, current_position):
    """The state classes of one palette cell (answered, flagged, current, checked right or wrong)."""
    classes = []
    if slot.is_answered:
        classes.append("is-answered")
    if slot.flagged:
        classes.append("is-flagged")
    if slot.position == current_position:
        classes.append("is-current")
    if slot.is_confirmed:
        classes.append("is-right" if slot.is_correct else "is-wrong")
    return "".join(f" {name}" for name in classes)


@register.filter
def palette_label(slot):
    """What a screen reader hears for one palette cell."""
    label = f"Question {slot.position}, {'answered' if slot.is_answered else 'not answered'}"
    return label + (", flagged" if slot.flagged else "")
