"""Solidarity pool planner: plan the EU Annual Solidarity Pool (Regulation (EU) 2024/1351)."""

__version__ = "0.1.0"
