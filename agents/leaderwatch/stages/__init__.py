"""Thin Faust stages over one runner (runner.py); register_stages() adds those a worker runs."""
from __future__ import annotations

from leaderwatch.stages.runner import StageContext


def register_stages(ctx: StageContext) -> None:
    """Register the agents and tables of every stage in ctx.settings.stages, in flow order."""
    from leaderwatch.stages import alert, clean, extract, mentions

    for name, module in (("clean", clean), ("extract", extract), ("mentions", mentions), ("alert", alert)):
        if name in ctx.settings.stages:
            module.register(ctx)
