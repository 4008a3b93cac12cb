"""Retention: artifacts deleted per kind once their job has ended, swept by the system itself.

config.py holds the rules (RetentionSettings), rules.py decides what is due, sweeper.py does the
deleting under a lease (lease.py) and counts what storage holds (usage.py) for /metrics.
"""

from runtime.retention.config import RetentionSettings, Rule, parse_rule
from runtime.retention.sweeper import Sweeper, SweepReport
from runtime.retention.usage import StorageUsage

__all__ = ["RetentionSettings", "Rule", "StorageUsage", "SweepReport", "Sweeper", "parse_rule"]
