"""Tournament sync (Spec 17 / Spec 21 §4.4, §8): structure, server clock, snapshots, balancing."""
