"""Request bodies of the ``/ml`` API with Neptune's field names (botocore ``neptunedata``
2023-08-01). Unknown fields are rejected (``extra="forbid"``) so that a misspelled field gets a 400
naming it instead of being silently ignored. Fields that only make sense on AWS (IAM roles,
instance types, VPC, KMS) are accepted and ignored.

Seer extensions (curl / web console; the AWS SDK cannot send them): ``additionalParams``
(Neptune export's ``{"neptune_ml": {"targets": [...], "features": [...]}}``, used when the input is
exported from the live database), ``modelName`` and ``overrides`` (fixed hyper-parameters such
as ``num-epochs``) on training.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None, min_length=1, max_length=256, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )
    neptuneIamRoleArn: str | None = None


class _AwsJob(_Request):
    sagemakerIamRoleArn: str | None = None
    subnets: list[str] | None = None
    securityGroupIds: list[str] | None = None
    volumeEncryptionKMSKey: str | None = None
    s3OutputEncryptionKMSKey: str | None = None


class StartDataProcessing(_AwsJob):
    previousDataProcessingJobId: str | None = None
    inputDataS3Location: str | None = None
    processedDataS3Location: str | None = None
    processingInstanceType: str | None = None
    processingInstanceVolumeSizeInGB: int | None = Field(default=None, ge=0)
    processingTimeOutInSeconds: int | None = Field(default=None, gt=0)
    modelType: Literal["heterogeneous", "kge"] | None = None
    configFileName: str = "training-data-configuration.json"
    additionalParams: dict[str, Any] | None = None


class CustomModelParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sourceS3DirectoryPath: str
    trainingEntryPointScript: str | None = None
    transformEntryPointScript: str | None = None


class StartModelTraining(_AwsJob):
    previousModelTrainingJobId: str | None = None
    dataProcessingJobId: str
    trainModelS3Location: str | None = None
    baseProcessingInstanceType: str | None = None
    trainingInstanceType: str | None = None
    trainingInstanceVolumeSizeInGB: int | None = Field(default=None, ge=0)
    trainingTimeOutInSeconds: int | None = Field(default=None, gt=0)
    maxHPONumberOfTrainingJobs: int = Field(default=2, ge=1, le=100)
    maxHPOParallelTrainingJobs: int = Field(default=2, ge=1, le=100)
    enableManagedSpotTraining: bool | None = None
    customModelTrainingParameters: CustomModelParameters | None = None
    modelName: Literal["rgcn", "transe", "distmult", "rotate"] | None = None
    overrides: dict[str, Any] | None = None


class StartModelTransform(_AwsJob):
    dataProcessingJobId: str | None = None
    mlModelTrainingJobId: str | None = None
    trainingJobName: str | None = None
    modelTransformOutputS3Location: str | None = None
    customModelTransformParameters: CustomModelParameters | None = None
    baseProcessingInstanceType: str | None = None
    baseProcessingInstanceVolumeSizeInGB: int | None = Field(default=None, ge=0)


class CreateEndpoint(_Request):
    mlModelTrainingJobId: str | None = None
    mlModelTransformJobId: str | None = None
    update: bool = False
    modelName: Literal["rgcn", "kge", "transe", "distmult", "rotate"] | None = None
    instanceType: str | None = None
    instanceCount: int | None = Field(default=None, ge=1)
    volumeEncryptionKMSKey: str | None = None
