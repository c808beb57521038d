"""Writes of the distribution workflow that span models, each in one transaction,
with its side effects (e-mail tasks) published after commit.

requests.py:   creating a request and every step of its life (the table of steps
               is distribution/transitions.py);
withdrawal.py: withdrawing consent or a line (lines stop, open requests on hold);
effects.py:    the one helper that publishes tasks after commit.
"""
