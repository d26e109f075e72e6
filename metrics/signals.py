"""Data events, for the concerns that follow them (recomputing the affected draft releases).

Sent after the change has committed, with `quarter_ids` (the quarters whose observations or
flags changed).
"""

from django.dispatch import Signal

observations_changed = Signal()
