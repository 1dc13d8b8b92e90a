"""Simulators of Mijnwebwinkel and e-Boekhouden, and the sandbox that `make run` starts."""
