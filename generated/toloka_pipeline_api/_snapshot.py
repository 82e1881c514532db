"""Which OpenAPI snapshot this package was generated from (written by generate.sh)."""

from typing import Any

SNAPSHOT: dict[str, str] = {
    'api_version': 'v2-beta',
    'source': 'https://platform.toloka.ai/api/v2-beta/doc (unreachable; reconstructed from the published how-to and api-facts)',
    'mode': 'reconstructed',
    'date': '2026-11-25',
    'sha256': 'dea6952b82c537c84bfa9f0e7142621e07b90a42bdfbb99bf9fd91c87b354289',
}

SNAPSHOT_VERSION = f"{SNAPSHOT['api_version']}@{SNAPSHOT['date']}#{SNAPSHOT['sha256'][:12]}"

# operationId -> method, path template, parameter names by location, and the top-level
# request-body properties (None: no body) with the required ones.
OPERATIONS: dict[str, dict[str, Any]] = {
    'addDatasetItems': {'method': 'POST', 'path': '/datasets/{datasetId}/items', 'path_params': ['datasetId'], 'query': [], 'headers': [], 'body': ['fields', 'items'], 'body_required': ['items'], 'content_type': 'application/json'},
    'attachDataset': {'method': 'POST', 'path': '/pipelines/{pipelineId}/dataset', 'path_params': ['pipelineId'], 'query': [], 'headers': [], 'body': ['datasetId', 'itemFilter', 'itemLimit'], 'body_required': ['datasetId'], 'content_type': 'application/json'},
    'copyPipeline': {'method': 'POST', 'path': '/pipelines/{pipelineId}/copy', 'path_params': ['pipelineId'], 'query': [], 'headers': [], 'body': ['name', 'projectId'], 'body_required': [], 'content_type': 'application/json'},
    'createDataset': {'method': 'POST', 'path': '/projects/{projectId}/datasets', 'path_params': ['projectId'], 'query': [], 'headers': [], 'body': ['name'], 'body_required': ['name'], 'content_type': 'application/json'},
    'createExport': {'method': 'POST', 'path': '/datasets/{datasetId}/exports', 'path_params': ['datasetId'], 'query': [], 'headers': [], 'body': ['fields', 'format'], 'body_required': ['fields'], 'content_type': 'application/json'},
    'createProject': {'method': 'POST', 'path': '/projects', 'path_params': [], 'query': [], 'headers': [], 'body': ['description', 'name'], 'body_required': ['name'], 'content_type': 'application/json'},
    'createUpload': {'method': 'POST', 'path': '/datasets/{datasetId}/uploads', 'path_params': ['datasetId'], 'query': [], 'headers': [], 'body': ['fields', 'fileName'], 'body_required': [], 'content_type': 'application/json'},
    'exportPipeline': {'method': 'GET', 'path': '/pipelines/{pipelineId}/export', 'path_params': ['pipelineId'], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'finalizeUpload': {'method': 'POST', 'path': '/uploads/{uploadId}/finalize', 'path_params': ['uploadId'], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'getExport': {'method': 'GET', 'path': '/exports/{exportId}', 'path_params': ['exportId'], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'getMe': {'method': 'GET', 'path': '/me', 'path_params': [], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'getRun': {'method': 'GET', 'path': '/runs/{runId}', 'path_params': ['runId'], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'getUpload': {'method': 'GET', 'path': '/uploads/{uploadId}', 'path_params': ['uploadId'], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'importPipeline': {'method': 'POST', 'path': '/projects/{projectId}/pipelines/import', 'path_params': ['projectId'], 'query': [], 'headers': [], 'body': ['file', 'name'], 'body_required': ['file'], 'content_type': 'multipart/form-data'},
    'listDatasetFields': {'method': 'GET', 'path': '/datasets/{datasetId}/fields', 'path_params': ['datasetId'], 'query': [], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'listDatasets': {'method': 'GET', 'path': '/projects/{projectId}/datasets', 'path_params': ['projectId'], 'query': ['limit', 'offset'], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'listExports': {'method': 'GET', 'path': '/datasets/{datasetId}/exports', 'path_params': ['datasetId'], 'query': ['limit', 'offset'], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'listPipelines': {'method': 'GET', 'path': '/projects/{projectId}/pipelines', 'path_params': ['projectId'], 'query': ['limit', 'offset'], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'listProjects': {'method': 'GET', 'path': '/projects', 'path_params': [], 'query': ['limit', 'offset'], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'listRuns': {'method': 'GET', 'path': '/pipelines/{pipelineId}/runs', 'path_params': ['pipelineId'], 'query': ['limit', 'offset'], 'headers': [], 'body': None, 'body_required': [], 'content_type': None},
    'startRun': {'method': 'POST', 'path': '/pipelines/{pipelineId}/runs', 'path_params': ['pipelineId'], 'query': [], 'headers': [], 'body': ['name'], 'body_required': [], 'content_type': 'application/json'},
}

# operationId -> the JSON type and bounds each path / query parameter and top-level
# request-body property must keep (none from a guessed schema, no enums).
REQUEST_CHECKS: dict[str, dict[str, Any]] = {
    'addDatasetItems': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'attachDataset': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'datasetId': {'type': 'string', 'minLength': 1}, 'itemLimit': {'type': 'integer', 'minimum': 1}}},
    'copyPipeline': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'createDataset': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'name': {'type': 'string', 'minLength': 1}}},
    'createExport': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'createProject': {'path': {}, 'query': {}, 'body': {'name': {'type': 'string', 'minLength': 1}}},
    'createUpload': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'fields': {'type': 'array'}}},
    'exportPipeline': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'finalizeUpload': {'path': {'uploadId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'getExport': {'path': {'exportId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'getMe': {'path': {}, 'query': {}, 'body': {}},
    'getRun': {'path': {'runId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'getUpload': {'path': {'uploadId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'importPipeline': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'file': {'type': 'string'}, 'name': {'type': 'string'}}},
    'listDatasetFields': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
    'listDatasets': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {'offset': {'type': 'integer', 'minimum': 0}}, 'body': {}},
    'listExports': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {'offset': {'type': 'integer', 'minimum': 0}}, 'body': {}},
    'listPipelines': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {'offset': {'type': 'integer', 'minimum': 0}}, 'body': {}},
    'listProjects': {'path': {}, 'query': {'offset': {'type': 'integer', 'minimum': 0}}, 'body': {}},
    'listRuns': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {'offset': {'type': 'integer', 'minimum': 0}}, 'body': {}},
    'startRun': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {}},
}

# operationId -> the shape the snapshot gives each path / query parameter and the
# request body: types, formats, patterns, enums, bounds, nested properties and
# required names, guesses marked (to judge a 400 that blames a known name).
REQUEST_SHAPES: dict[str, dict[str, Any]] = {
    'addDatasetItems': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'guess': True, 'properties': {'fields': {'type': 'array', 'items': {'type': 'object', 'properties': {'jsonSchema': {'type': 'object'}, 'name': {'type': 'string', 'minLength': 1}}, 'required': ['name']}}, 'items': {'type': 'array', 'minItems': 1, 'items': {'type': 'object'}}}, 'required': ['items']}},
    'attachDataset': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'properties': {'datasetId': {'type': 'string', 'minLength': 1}, 'itemFilter': {'type': 'object', 'guess': True, 'properties': {'conditions': {'type': 'array', 'minItems': 1, 'items': {'type': 'object', 'guess': True, 'properties': {'field': {'type': 'string', 'minLength': 1}, 'operator': {'type': 'string', 'enum': ['eq', 'ne', 'in', 'not_in', 'contains', 'exists']}, 'value': {}}, 'required': ['field', 'operator']}}, 'match': {'type': 'string', 'enum': ['all', 'any']}}, 'required': ['conditions']}, 'itemLimit': {'type': 'integer', 'minimum': 1}}, 'required': ['datasetId']}},
    'copyPipeline': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'guess': True, 'properties': {'name': {'type': 'string', 'minLength': 1}, 'projectId': {'type': 'string', 'minLength': 1}}}},
    'createDataset': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'properties': {'name': {'type': 'string', 'minLength': 1}}, 'required': ['name']}},
    'createExport': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'properties': {'fields': {'type': 'array', 'minItems': 1, 'guess': True, 'items': {'oneOf': [{'type': 'object', 'properties': {'name': {'type': 'string', 'minLength': 1}}, 'required': ['name']}, {'type': 'object', 'properties': {'id': {'type': 'string', 'minLength': 1}}, 'required': ['id']}]}}, 'format': {'type': 'string', 'enum': ['jsonl', 'json', 'csv'], 'guess': True}}, 'required': ['fields']}},
    'createProject': {'path': {}, 'query': {}, 'body': {'type': 'object', 'properties': {'description': {'type': 'string', 'guess': True}, 'name': {'type': 'string', 'minLength': 1}}, 'required': ['name']}},
    'createUpload': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'properties': {'fields': {'type': 'array', 'items': {'type': 'object', 'properties': {'jsonSchema': {'type': 'object'}, 'name': {'type': 'string', 'minLength': 1}}, 'required': ['name']}}, 'fileName': {'type': 'string', 'guess': True}}}},
    'exportPipeline': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': None},
    'finalizeUpload': {'path': {'uploadId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': None},
    'getExport': {'path': {'exportId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': None},
    'getMe': {'path': {}, 'query': {}, 'body': None},
    'getRun': {'path': {'runId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': None},
    'getUpload': {'path': {'uploadId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': None},
    'importPipeline': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'properties': {'file': {'type': 'string', 'format': 'binary'}, 'name': {'type': 'string'}}, 'required': ['file']}},
    'listDatasetFields': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': None},
    'listDatasets': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100, 'guess': True}, 'offset': {'type': 'integer', 'minimum': 0}}, 'body': None},
    'listExports': {'path': {'datasetId': {'type': 'string', 'minLength': 1}}, 'query': {'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100, 'guess': True}, 'offset': {'type': 'integer', 'minimum': 0}}, 'body': None},
    'listPipelines': {'path': {'projectId': {'type': 'string', 'minLength': 1}}, 'query': {'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100, 'guess': True}, 'offset': {'type': 'integer', 'minimum': 0}}, 'body': None},
    'listProjects': {'path': {}, 'query': {'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100, 'guess': True}, 'offset': {'type': 'integer', 'minimum': 0}}, 'body': None},
    'listRuns': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100, 'guess': True}, 'offset': {'type': 'integer', 'minimum': 0}}, 'body': None},
    'startRun': {'path': {'pipelineId': {'type': 'string', 'minLength': 1}}, 'query': {}, 'body': {'type': 'object', 'properties': {'name': {'type': 'string', 'guess': True}}}},
}
