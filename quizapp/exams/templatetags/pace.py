"""The result page's pace report, read where it is shown (the result view stays as it is)."""

from django import template

from quizapp.exams.queries import pace_report

register = template.Library()


@register.simple_tag
def attempt_pace(attempt):
    return pace_report(attempt)
