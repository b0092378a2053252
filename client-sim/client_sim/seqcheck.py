"""Did one client see every event of a room exactly once, in seq order?

A client learns where it starts from its join ack (the room's seq when it entered); every
event after that must arrive once, seqs going up by one, across any number of reconnects.
Events that arrive before the ack (a live event can overtake it) wait until the start is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SeqCheck:
    next_seq: int | None = None  # the seq the client must see next
    seen: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    _missing: set[int] = field(default_factory=set)
    _early: list[int] = field(default_factory=list)

    @property
    def last(self) -> int | None:
        """The highest seq the client holds without a gap before it (what it resumes from)."""
        return None if self.next_seq is None else self.next_seq - 1

    def start(self, joined_at: int) -> None:
        """The join ack's seq: events after it are this client's to receive."""
        if self.next_seq is not None:
            return
        self.next_seq = joined_at + 1
        early, self._early = self._early, []
        for seq in early:
            self.see(seq)

    def see(self, seq: int) -> None:
        if self.next_seq is None:
            self._early.append(seq)
            return
        self.seen += 1
        if seq == self.next_seq:
            self.next_seq += 1
        elif seq > self.next_seq:
            self._missing.update(range(self.next_seq, seq))
            self.lost += seq - self.next_seq
            self.next_seq = seq + 1
        elif seq in self._missing:
            # Late rather than lost: it came after a higher seq.
            self._missing.discard(seq)
            self.lost -= 1
            self.out_of_order += 1
        else:
            self.duplicated += 1

    def finish(self, head: int) -> None:
        """Count what never arrived up to the room's last seq `head`."""
        if self.next_seq is None:
            return
        if self.next_seq <= head:
            self.lost += head - self.next_seq + 1
            self.next_seq = head + 1

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.out_of_order == 0

    def summary(self) -> dict[str, Any]:
        return {"seen": self.seen, "lost": self.lost, "duplicated": self.duplicated,
                "out_of_order": self.out_of_order}


def check_sequence(joined_at: int, seqs: list[int], head: int) -> SeqCheck:
    """Check a whole recorded stream at once (what a client saw, from its join to the end)."""
    check = SeqCheck()
    check.start(joined_at)
    for seq in seqs:
        check.see(seq)
    check.finish(head)
    return check
