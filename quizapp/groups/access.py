"""Who may reach which group: checked in every view. Anything not theirs is a 404, as if it did not exist."""

from django.shortcuts import get_object_or_404

from .models import Assignment, Membership, Sitting, StudyGroup


def taught_group(request, group_id) -> StudyGroup:
    """A group this user owns or co-instructs, or 404."""
    return get_object_or_404(StudyGroup.objects.taught_by(request.user), pk=group_id)


def owned_group(request, group_id) -> StudyGroup:
    """A group this user owns (settings, co-instructors, codes), or 404."""
    return get_object_or_404(StudyGroup, pk=group_id, owner=request.user)


def own_membership(request, group_id) -> Membership:
    """The user's own membership of a group, or 404."""
    return get_object_or_404(Membership.objects.select_related("group"), group_id=group_id, user=request.user)


def taught_assignment(request, group_id, assignment_id) -> Assignment:
    group = taught_group(request, group_id)
    return get_object_or_404(
        Assignment.objects.select_related("blueprint__bank", "group"), pk=assignment_id, group=group
    )


def member_assignment(request, group_id, assignment_id) -> tuple[Membership, Assignment]:
    membership = own_membership(request, group_id)
    assignment = get_object_or_404(
        Assignment.objects.select_related("blueprint__bank", "group"), pk=assignment_id, group_id=group_id
    )
    return membership, assignment


def live_sitting(assignment) -> Sitting | None:
    return assignment.sittings.exclude(state=Sitting.State.ENDED).first()
