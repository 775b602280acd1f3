from django import template
from django.utils import timezone

from quizapp.groups import queries

register = template.Library()


@register.filter
def heat_class(value):
    return queries.heat_class(value)


@register.inclusion_tag("groups/_home_panel.html", takes_context=True)
def groups_due(context):
    """The dashboard's "your groups" panel: each group the learner is in, and what is assigned and due."""
    user = context["user"]
    return {"user": user, "joined": queries.member_home(user=user, now=timezone.now())}
