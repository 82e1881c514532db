from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.copy_pipeline_request import CopyPipelineRequest
from ...models.error import Error
from ...models.pipeline import Pipeline
from ...types import UNSET, Response, Unset


def _get_kwargs(
    pipeline_id: str,
    *,
    body: CopyPipelineRequest | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/pipelines/{pipeline_id}/copy".format(
            pipeline_id=quote(str(pipeline_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Pipeline | None:
    if response.status_code == 201:
        response_201 = Pipeline.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Pipeline]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    pipeline_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CopyPipelineRequest | Unset = UNSET,
) -> Response[Error | Pipeline]:
    """Copy an existing pipeline (the start of every "more data" batch).

    Args:
        pipeline_id (str):
        body (CopyPipelineRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Pipeline]
    """

    kwargs = _get_kwargs(
        pipeline_id=pipeline_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    pipeline_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CopyPipelineRequest | Unset = UNSET,
) -> Error | Pipeline | None:
    """Copy an existing pipeline (the start of every "more data" batch).

    Args:
        pipeline_id (str):
        body (CopyPipelineRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Pipeline
    """

    return sync_detailed(
        pipeline_id=pipeline_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    pipeline_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CopyPipelineRequest | Unset = UNSET,
) -> Response[Error | Pipeline]:
    """Copy an existing pipeline (the start of every "more data" batch).

    Args:
        pipeline_id (str):
        body (CopyPipelineRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Pipeline]
    """

    kwargs = _get_kwargs(
        pipeline_id=pipeline_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    pipeline_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CopyPipelineRequest | Unset = UNSET,
) -> Error | Pipeline | None:
    """Copy an existing pipeline (the start of every "more data" batch).

    Args:
        pipeline_id (str):
        body (CopyPipelineRequest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Pipeline
    """

    return (
        await asyncio_detailed(
            pipeline_id=pipeline_id,
            client=client,
            body=body,
        )
    ).parsed
