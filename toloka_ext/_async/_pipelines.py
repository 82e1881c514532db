"""``client.pipelines``: copy, import, export, list, and attach a dataset."""

from __future__ import annotations

import os
from pathlib import Path

from .._exceptions import InvalidInputError
from .._v2 import _adapter as A
from .._v2._models import DatasetAttachment, ItemFilter, Pipeline
from .._v2._results import AtomicFile
from .._v2._workflow import check_item_limit
from ._core import AsyncCore
from ._pagination import AsyncPaginator
from ._projects import AsyncProjects
from ._resource import DEFAULT_PAGE_SIZE, AsyncResource

__all__ = ["AsyncPipelines"]


class AsyncPipelines(AsyncResource):
    """``client.pipelines``: pipelines are designed in the app; the API copies and binds them."""

    def __init__(self, core: AsyncCore, projects: AsyncProjects) -> None:
        super().__init__(core)
        self._projects = projects

    async def copy(
        self, pipeline_id: str, *, name: str | None = None, project_id: str | None = None
    ) -> Pipeline:
        """Copy a pipeline (each batch of new data gets its own copy)."""
        return await self._call(
            A.req_copy_pipeline(pipeline_id, name=name, project_id=project_id), A.parse_pipeline
        )

    async def import_file(
        self, project_id: str, path: str | os.PathLike[str], *, name: str | None = None
    ) -> Pipeline:
        """Import a ``.pipeline`` file exported from the app.

        Example::

            pipeline = await client.pipelines.import_file("prj-1", "signs.pipeline")
        """
        A.check_body("importPipeline", name=name)
        file = Path(path)
        try:
            with open(file, "rb") as fh:
                spec = A.req_import_pipeline(project_id, payload=fh, file_name=file.name, name=name)
        except OSError as exc:  # missing, a directory, unreadable: before any request
            raise InvalidInputError(
                f"cannot read the pipeline file {os.fspath(path)!r}: {exc.strerror or exc}",
                field="path",
            ) from None
        return await self._call(spec, A.parse_pipeline)

    async def export_to_file(self, pipeline_id: str, path: str | os.PathLike[str]) -> Path:
        """Save a pipeline as a portable ``.pipeline`` file (written atomically)."""
        spec = A.req_export_pipeline(pipeline_id)
        with AtomicFile(path) as out:  # before the request: an unwritable path fails first
            response = await self._send(spec, stream=True)
            try:
                if response.headers.get("content-type", "").startswith("text/html"):
                    # A web page, not a pipeline file: a wrong base_url, else the API changed.
                    await self._core.verify_api("v2")
                    raise A.drift(
                        "exportPipeline", "<body>", "answered an HTML page, not a .pipeline file"
                    )
                async for block in response.aiter_bytes():
                    out.write(block)
                return out.commit()
            finally:
                await response.aclose()

    def list(self, project_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Pipeline]:
        """The pipelines of a project, fetched a page at a time."""
        return self._paginate(
            limit,
            lambda off: A.req_list_pipelines(project_id, limit=limit, offset=off),
            A.parse_pipeline_page,
        )

    async def attach(
        self,
        pipeline_id: str,
        dataset_id: str,
        *,
        item_limit: int | None = None,
        item_filter: ItemFilter | None = None,
    ) -> DatasetAttachment:
        """Bind a dataset to a pipeline, optionally capping (``item_limit``) or filtering.

        Example::

            english = ItemFilter([ItemFilterCondition("lang", "eq", "en")])
            await client.pipelines.attach(copy.id, dataset.id, item_filter=english)
        """
        check_item_limit(item_limit)
        spec = A.req_attach_dataset(
            pipeline_id, dataset_id=dataset_id, item_limit=item_limit, item_filter=item_filter
        )
        response = await self._send(spec)
        return A.parse_attachment(
            spec.operation,
            response,
            pipeline_id=pipeline_id,
            dataset_id=dataset_id,
            item_limit=item_limit,
            item_filter=item_filter,
        )

    async def _find(self, project_id: str, *, name: str) -> Pipeline | None:
        async for pipeline in self.list(project_id, limit=100):
            if pipeline.name == name:
                return pipeline
        return None

    async def _find_project(self, pipeline_id: str) -> str:
        async for project in self._projects.list(limit=100):
            async for pipeline in self.list(project.id, limit=100):
                if pipeline.id == pipeline_id:
                    return project.id
        raise InvalidInputError(
            f"pipeline {pipeline_id} is in none of the projects this key can list; "
            "pass project_id=",
            field="pipeline_id",
        )
