"""One module per ``dvc.yaml`` stage: read the inputs named in ``paths``, call library code,
write outputs and return the stage's metrics. ``curate.cli`` dispatches to ``run(ctx, **options)``
(:class:`curate.stages.base.Context`: the validated params and the project root)."""
