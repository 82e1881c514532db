"""The "more data" loop of the how-to, in one resumable call: ``process_new_data``."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

from .._journal import Journal
from .._progress import ProgressBars, run_bar
from .._v2._models import Export, Pipeline, Run
from .._v2._results import export_format
from .._v2._rows import PreparedRows
from .._v2._workflow import ProcessOptions, ProcessResult
from ._core import AsyncCore
from ._datasets import AsyncDatasets
from ._exports import AsyncExports
from ._once import create_once
from ._pipelines import AsyncPipelines
from ._runs import AsyncRuns

__all__ = ["AsyncWorkflows"]


class AsyncWorkflows:
    """Flows over several resources; each step is journaled, so a rerun creates nothing twice."""

    def __init__(
        self,
        core: AsyncCore,
        *,
        datasets: AsyncDatasets,
        pipelines: AsyncPipelines,
        runs: AsyncRuns,
        exports: AsyncExports,
    ) -> None:
        self._core = core
        self._datasets = datasets
        self._pipelines = pipelines
        self._runs = runs
        self._exports = exports

    async def process(
        self,
        pipeline_id: str,
        prepared: PreparedRows,
        journal: Journal,
        opts: ProcessOptions,
        display: ProgressBars,
    ) -> ProcessResult:
        """The steps of ``process_new_data`` (see :meth:`AsyncToloka.process_new_data`);
        ``display`` shows them (a no-op unless ``progress=True``)."""
        # Everything that shapes what the job creates or reports is bound to the journal: a
        # rerun with any of it changed is another job (JournalMismatchError names which).
        journal.start(
            job="process_new_data",
            pipeline_id=pipeline_id,
            rows_sha256=prepared.fingerprint,
            item_limit=opts.item_limit,
            item_filter=opts.item_filter.to_json() if opts.item_filter else None,
            project_id=opts.project_id,
            name_prefix=opts.name_prefix,
            fields=prepared.fields_json(),
            rows_path=prepared.path,
            rows_plan=prepared.plan_digest(),
            export_fields=list(opts.export_fields) if opts.export_fields is not None else None,
            export_format=opts.export_format,
            output=str(opts.output.resolve()) if opts.output is not None else None,
        )
        # Every object this job creates carries the journal's token in its name, so a rerun
        # (or this call, after a lost answer) finds what was created before it could say so.
        name = f"{opts.name_prefix}-{journal.token}"
        resumed = journal.resumed

        # 1. The project (to create the dataset in, and to reconcile by listing).
        rec = journal.get_done("project")
        if rec is not None:
            project_id = str(rec["id"])
        else:
            project_id = opts.project_id or await self._pipelines._find_project(pipeline_id)
            journal.done("project", id=project_id)

        # 2. The dataset.
        # A resumed journal reconciles before every creating step, intent record or not:
        # the server may hold what the interrupted run created but could not journal.
        rec = journal.get_done("dataset")
        if rec is None:
            dataset = await create_once(
                self._core,
                "dataset",
                find=lambda: self._datasets._find(project_id, name=name),
                create=lambda: self._datasets.create(project_id, name=name),
                before_send=lambda: journal.intent("dataset", name=name),
                look_first=resumed,
                sent_before=journal.get_intent("dataset"),
            )
            rec = journal.done("dataset", id=dataset.id, name=dataset.name)
        dataset_id = str(rec["id"])

        # 3. The rows.
        items = await self._datasets._add(
            dataset_id, prepared, journal, project_id, opts.poll_policy, display
        )

        # 4. The pipeline copy.
        rec = journal.get_done("copy")
        copy: Pipeline | None = None
        if rec is None:
            copy = await create_once(
                self._core,
                "pipeline copy",
                find=lambda: self._pipelines._find(project_id, name=name),
                create=lambda: self._pipelines.copy(pipeline_id, name=name, project_id=project_id),
                before_send=lambda: journal.intent("copy", name=name),
                look_first=resumed,
                sent_before=journal.get_intent("copy"),
            )
            journal.done("copy", id=copy.id, name=copy.name)
        else:
            copy = Pipeline(id=str(rec["id"]), name=str(rec["name"]), project_id=project_id)

        # 5. Attach (binding the same dataset again is harmless).
        if not journal.is_done("attach"):
            await self._pipelines.attach(
                copy.id, dataset_id, item_limit=opts.item_limit, item_filter=opts.item_filter
            )
            journal.done("attach")

        # 6. The run: the copy is this job's alone, so any run of it is the one it started.
        rec = journal.get_done("run")
        if rec is None:
            copy_id = copy.id

            async def started() -> Run | None:
                runs = await self._runs._list_all(copy_id)
                return runs[0] if runs else None

            run_started = await create_once(
                self._core,
                "run",
                find=started,
                create=lambda: self._runs.start(copy_id),
                before_send=lambda: journal.intent("run", pipeline_id=copy_id),
                look_first=resumed,
                sent_before=journal.get_intent("run"),
            )
            rec = journal.done("run", id=run_started.id)
        run = await self._runs.watch(
            str(rec["id"]),
            poll_policy=opts.poll_policy,
            on_progress=run_bar(display, opts.on_progress),
        )

        # 7. The export: the dataset is this job's alone, so an export of it is the one it
        # asked for.
        rec = journal.get_done("export")
        if rec is None:
            existing = await create_once(
                self._core,
                "export",
                find=lambda: self._exports._existing(dataset_id),
                create=lambda: self._exports.create(
                    dataset_id,
                    fields=list(opts.export_fields) if opts.export_fields else None,
                    format=opts.export_format,
                ),
                before_send=lambda: journal.intent("export", dataset_id=dataset_id),
                look_first=resumed,
                sent_before=journal.get_intent("export"),
            )
            rec = journal.done("export", id=existing.id)
        display.note("download", "exporting")
        export: Export = await self._exports.wait(str(rec["id"]), poll_policy=opts.poll_policy)

        # 8. The download (atomic: the final name holds a complete file or nothing).
        fmt = export_format(export)
        scratch: str | None = None
        if opts.output is not None:
            output = opts.output
        elif journal.path is not None:
            output = journal.path.with_name(f"{journal.path.name}.results.{fmt}")
        else:
            scratch = tempfile.mkdtemp(prefix="toloka-results-")
            output = Path(scratch) / f"results.{fmt}"
        rec = journal.get_done("download")
        try:
            if rec is None or not os.path.exists(str(rec["path"])):
                await self._exports._download(export, output, display)
                journal.done("download", path=str(output))
        except BaseException:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        result = ProcessResult(
            project_id=project_id,
            dataset_id=dataset_id,
            pipeline=copy,
            run=run,
            export=export,
            path=Path(output),
            format=fmt,
            items=items,
        )
        if scratch is not None:
            # Nobody asked for a file: it lives as long as the result (or the interpreter).
            weakref.finalize(result, shutil.rmtree, scratch, True)
        return result
