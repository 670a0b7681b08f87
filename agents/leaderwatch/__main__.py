"""The `leaderwatch` command (== `python -m leaderwatch`): Faust's CLI plus leaderwatch's own.

main() reads the settings once, builds the app, registers the stages this process may run, their
views and the commands, then hands over to Faust's CLI. A worker's claims on the machine (data
dir, web port) are taken by leaderwatch.worker.Worker when the `worker` command starts one.
"""
from __future__ import annotations

from leaderwatch.settings import Settings


def build_worker_app(settings: Settings):
    """Settings -> (faust.App with every stage in settings.stages and the web views, StageContext)."""
    from leaderwatch.app import create_app
    from leaderwatch.stages import register_stages
    from leaderwatch.stages.runner import StageContext
    from leaderwatch.topics import declare_topics
    from leaderwatch.web.views import register_views

    app = create_app(settings)
    ctx = StageContext(app=app, settings=settings, topics=declare_topics(app, settings))
    register_stages(ctx)
    register_views(ctx)
    return app, ctx


def main() -> None:
    """Console entry point `leaderwatch`."""
    from faust.cli.faust import cli

    from leaderwatch.cli.commands import register_commands

    settings = Settings.from_env()
    app, _ = build_worker_app(settings)
    register_commands(app, settings)
    app.finalize()
    app.worker_init()
    app.worker_init_post_autodiscover()
    # LEADERWATCH_LOG_LEVEL is the default of `worker -l/--loglevel` (other commands log warnings
    # only); JSON logs: --quiet by default, Faust's text banner left out
    cli(app=app, default_map={"quiet": settings.log_format.lower() == "json", "worker": {"loglevel": settings.log_level}})


if __name__ == "__main__":
    main()
