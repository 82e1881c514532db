"""Contains all the data models used in inputs/outputs"""

from .add_items_request import AddItemsRequest
from .add_items_request_items_item import AddItemsRequestItemsItem
from .add_items_result import AddItemsResult
from .attach_dataset_request import AttachDatasetRequest
from .copy_pipeline_request import CopyPipelineRequest
from .create_dataset_request import CreateDatasetRequest
from .create_export_request import CreateExportRequest
from .create_project_request import CreateProjectRequest
from .create_upload_request import CreateUploadRequest
from .dataset import Dataset
from .dataset_attachment import DatasetAttachment
from .dataset_list import DatasetList
from .error import Error
from .error_details import ErrorDetails
from .error_info import ErrorInfo
from .export import Export
from .export_field_by_id import ExportFieldById
from .export_field_by_name import ExportFieldByName
from .export_format import ExportFormat
from .export_list import ExportList
from .export_status import ExportStatus
from .field import Field
from .field_declaration import FieldDeclaration
from .field_declaration_json_schema import FieldDeclarationJsonSchema
from .field_json_schema import FieldJsonSchema
from .field_list import FieldList
from .import_pipeline_request import ImportPipelineRequest
from .item_filter import ItemFilter
from .item_filter_condition import ItemFilterCondition
from .item_filter_condition_operator import ItemFilterConditionOperator
from .item_filter_match import ItemFilterMatch
from .me import Me
from .pagination import Pagination
from .pipeline import Pipeline
from .pipeline_list import PipelineList
from .project import Project
from .project_list import ProjectList
from .run import Run
from .run_list import RunList
from .run_progress import RunProgress
from .run_status import RunStatus
from .start_run_request import StartRunRequest
from .upload import Upload
from .upload_status import UploadStatus
from .upload_upload_method import UploadUploadMethod

__all__ = (
    "AddItemsRequest",
    "AddItemsRequestItemsItem",
    "AddItemsResult",
    "AttachDatasetRequest",
    "CopyPipelineRequest",
    "CreateDatasetRequest",
    "CreateExportRequest",
    "CreateProjectRequest",
    "CreateUploadRequest",
    "Dataset",
    "DatasetAttachment",
    "DatasetList",
    "Error",
    "ErrorDetails",
    "ErrorInfo",
    "Export",
    "ExportFieldById",
    "ExportFieldByName",
    "ExportFormat",
    "ExportList",
    "ExportStatus",
    "Field",
    "FieldDeclaration",
    "FieldDeclarationJsonSchema",
    "FieldJsonSchema",
    "FieldList",
    "ImportPipelineRequest",
    "ItemFilter",
    "ItemFilterCondition",
    "ItemFilterConditionOperator",
    "ItemFilterMatch",
    "Me",
    "Pagination",
    "Pipeline",
    "PipelineList",
    "Project",
    "ProjectList",
    "Run",
    "RunList",
    "RunProgress",
    "RunStatus",
    "StartRunRequest",
    "Upload",
    "UploadStatus",
    "UploadUploadMethod",
)
