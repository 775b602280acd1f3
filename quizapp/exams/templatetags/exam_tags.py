import re
from urllib.parse import urlsplit

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


@register.simple_tag
def palette_cells(palette, attempt, current_position, with_buttons=True):
    """The palette's cells: a link each (JavaScript), and a button of the answer form each (without JavaScript).

    Built in Python because the palette is on every question page: one reverse() and plain string building
    instead of template tags per cell keep even a 450-question palette cheap. Every value is generated here
    (numbers, state words, the escaped URL), none comes from a user.
    """
    prefix = _question_prefix(attempt)
    return mark_safe("".join(_cell(prefix, slot, current_position, with_buttons) for slot in palette))  # noqa: S308


@register.simple_tag
def palette_cell_update(slot, attempt):
    """The one cell an autosave or a flag changed, swapped into the palette out of band (its link only: a
    response to an HTMX request, so JavaScript is on). The rest of the palette cannot have changed."""
    return mark_safe(_cell(_question_prefix(attempt), slot, slot.position, False, oob=True))  # noqa: S308


def _question_prefix(attempt):
    return escape(reverse("exams:question", args=[attempt.pk, 1])[: -len("1/")])


def _cell(prefix, slot, current_position, with_buttons, oob=False):
    position = int(slot.position)
    classes = palette_classes(slot, current_position)
    label = palette_label(slot)
    current = ' aria-current="step"' if position == current_position else ""
    swap = ' hx-swap-oob="true"' if oob else ""
    cell = f'<li id="palette-{position}"{swap}><a href="{prefix}{position}/" class="palette-item js-only{classes}"'
    cell += f'{current} aria-label="{label}">{position}</a>'
    if with_buttons:
        cell += (
            f'<button type="submit" form="answer-form" name="go" value="{position}" '
            f'class="palette-item nojs-only{classes}"{current} aria-label="Save and go to {label}">'
            f"{position}</button>"
        )
    return cell + "</li>"


@register.simple_tag
def result_grid_cells(cells, answers_url):
    """The result page's grid, one link per question to its place on the answers page.

    Built in Python for the reason the palette is: every learner of a group sitting opens this page in the same
    seconds, and 75 cells of template tags were most of its rendering. Every value is generated here (numbers,
    state words, the escaped URL), none comes from a user.
    """
    href = escape(f"{answers_url}?show=all#q")
    return mark_safe(  # noqa: S308
        "".join(
            f'<li><a class="result-cell is-{cell.state}{" is-flagged" if cell.flagged else ""}" '
            f'href="{href}{int(cell.position)}" aria-label="Question {int(cell.position)}: {cell.state_label}'
            f'{", Flagged" if cell.flagged else ""}">{int(cell.position)}</a></li>'
            for cell in cells
        )
    )


@register.filter
def reference_label(url):
    """A readable name for a documentation link: its page name, e.g. 'reference appspec file structure hooks'."""
    try:
        path = urlsplit(str(url)).path.rstrip("/")
    except ValueError:
        return str(url)
    page = path.rsplit("/", 1)[-1] or path
    page = re.sub(r"\.(html?|md)$", "", page)
    words = re.sub(r"[-_]+", " ", page).strip()
    return words[:1].upper() + words[1:] if words else str(url)


@register.filter
def reference_host(url):
    try:
        return urlsplit(str(url)).hostname or ""
    except ValueError:
        return ""
