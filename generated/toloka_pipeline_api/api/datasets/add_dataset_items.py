from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.add_items_request import AddItemsRequest
from ...models.add_items_result import AddItemsResult
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    dataset_id: str,
    *,
    body: AddItemsRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/datasets/{dataset_id}/items".format(
            dataset_id=quote(str(dataset_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AddItemsResult | Error | None:
    if response.status_code == 200:
        response_200 = AddItemsResult.from_dict(response.json())

        return response_200

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

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AddItemsResult | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    dataset_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: AddItemsRequest,
) -> Response[AddItemsResult | Error]:
    """Add rows inline (request of at most 2 MB), optionally declaring fields.

     Each row is a JSON object keyed by field name. With `fields`, rows are mapped into the declared
    fields by name; without, the whole row is stored under a field named `uploaded`. The request body
    must not exceed 2 MB; larger data goes through uploads.

    Args:
        dataset_id (str):
        body (AddItemsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AddItemsResult | Error]
    """

    kwargs = _get_kwargs(
        dataset_id=dataset_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    dataset_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: AddItemsRequest,
) -> AddItemsResult | Error | None:
    """Add rows inline (request of at most 2 MB), optionally declaring fields.

     Each row is a JSON object keyed by field name. With `fields`, rows are mapped into the declared
    fields by name; without, the whole row is stored under a field named `uploaded`. The request body
    must not exceed 2 MB; larger data goes through uploads.

    Args:
        dataset_id (str):
        body (AddItemsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AddItemsResult | Error
    """

    return sync_detailed(
        dataset_id=dataset_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    dataset_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: AddItemsRequest,
) -> Response[AddItemsResult | Error]:
    """Add rows inline (request of at most 2 MB), optionally declaring fields.

     Each row is a JSON object keyed by field name. With `fields`, rows are mapped into the declared
    fields by name; without, the whole row is stored under a field named `uploaded`. The request body
    must not exceed 2 MB; larger data goes through uploads.

    Args:
        dataset_id (str):
        body (AddItemsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AddItemsResult | Error]
    """

    kwargs = _get_kwargs(
        dataset_id=dataset_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    dataset_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: AddItemsRequest,
) -> AddItemsResult | Error | None:
    """Add rows inline (request of at most 2 MB), optionally declaring fields.

     Each row is a JSON object keyed by field name. With `fields`, rows are mapped into the declared
    fields by name; without, the whole row is stored under a field named `uploaded`. The request body
    must not exceed 2 MB; larger data goes through uploads.

    Args:
        dataset_id (str):
        body (AddItemsRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AddItemsResult | Error
    """

    return (
        await asyncio_detailed(
            dataset_id=dataset_id,
            client=client,
            body=body,
        )
    ).parsed
