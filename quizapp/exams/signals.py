"""Signals the exam engine sends to the layers above it, which listen without the engine knowing them."""

from django.dispatch import Signal

# Sent once, after the commit, when an attempt really finishes (not on a repeated or concurrent finish).
# Arguments: attempt (the finished Attempt).
attempt_finished = Signal()
