from django.urls import path

from . import views

app_name = "groups"

assignment = "<int:group_id>/assignments/<int:assignment_id>/"
sitting = assignment + "sittings/<int:sitting_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.create, name="create"),
    path("join/", views.join, name="join"),
    path("invite/<str:token>/", views.invite, name="invite"),
    path("<int:group_id>/", views.detail, name="detail"),
    path("<int:group_id>/leave/", views.leave, name="leave"),
    path("<int:group_id>/leaderboard/", views.opt_in, name="opt_in"),
    path("<int:group_id>/settings/", views.settings_view, name="settings"),
    path("<int:group_id>/settings/rotate/", views.rotate, name="rotate"),
    path("<int:group_id>/instructors/", views.instructors, name="instructors"),
    path("<int:group_id>/audit/", views.audit_trail, name="audit"),
    path("<int:group_id>/instructors/<int:user_id>/remove/", views.instructor_remove, name="instructor_remove"),
    path("<int:group_id>/members/", views.members, name="members"),
    path("<int:group_id>/members/<int:user_id>/", views.member, name="member"),
    path("<int:group_id>/members/<int:user_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:group_id>/results/", views.results, name="results"),
    path("<int:group_id>/results.csv", views.results_csv, name="results_csv"),
    path("<int:group_id>/assignments/new/", views.assignment_edit, name="assignment_create"),
    path(assignment, views.assignment, name="assignment"),
    path(assignment + "edit/", views.assignment_edit, name="assignment_edit"),
    path(assignment + "start/", views.assignment_start, name="assignment_start"),
    path(assignment + "debrief/", views.debrief, name="debrief"),
    path(assignment + "sittings/", views.sitting_open, name="sitting_open"),
    path(sitting, views.proctor, name="proctor"),
    path(sitting + "poll/", views.proctor_poll, name="proctor_poll"),
    path(sitting + "start/", views.sitting_start, name="sitting_start"),
    path(sitting + "end/", views.sitting_end, name="sitting_end"),
    path(sitting + "extend/", views.seat_extend, name="seat_extend"),
    path(sitting + "close/", views.seat_close, name="seat_close"),
    path(sitting + "lobby/", views.lobby, name="lobby"),
    path(sitting + "lobby/poll/", views.lobby_poll, name="lobby_poll"),
]
