"""``client.projects``: list and create projects."""

from __future__ import annotations

from .._v2 import _adapter as A
from .._v2._models import Project
from ._pagination import AsyncPaginator
from ._resource import DEFAULT_PAGE_SIZE, AsyncResource

__all__ = ["AsyncProjects"]


class AsyncProjects(AsyncResource):
    """``client.projects``: list and create projects (pipelines are designed in the app)."""

    def list(self, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Project]:
        """Every project, fetched a page at a time.

        Example::

            async for project in client.projects.list():
                print(project.id, project.name)
        """
        return self._paginate(
            limit, lambda off: A.req_list_projects(limit=limit, offset=off), A.parse_project_page
        )

    async def create(self, name: str, *, description: str | None = None) -> Project:
        """Create a project: ``await client.projects.create("Signs")``."""
        return await self._call(
            A.req_create_project(name=name, description=description), A.parse_project
        )
