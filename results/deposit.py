"""Receiving a dataset: the upload (a JSON document, or a measurement table with its
metadata) and its files are stored with their SHA-256, the row is saved as
`received`, and validation (results.tasks.validate_dataset) is published after
commit, as a submission's is. Refusals that need no worker (unknown assay, no
file, too large) are a DepositError naming the field, at once."""

import hashlib
import logging
import mimetypes
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction

from core.roles import institution_of
from results.assays import FILE_ONLY_ASSAYS
from results.models import Assay, Dataset, DatasetFile, DepositFormat
from results.tasks import validate_dataset

# Metadata the deposit form and the API's `metadata` may carry beside a table.
METADATA_FIELDS = (
    "title",
    "description",
    "protocol",
    "cell_type",
    "cell_type_label",
    "performed_on",
    "licence",
    "embargo_until",
    "lines",
)
CHUNK = 1024 * 1024
logger = logging.getLogger(__name__)


class DepositError(ValueError):
    """A deposit refused before validation; `problems` maps each field to its message."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


def _size(limit):
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def read_upload(upload: Any) -> bytes | None:
    """The bytes of an uploaded table or document, refused (DepositError) before reading when too large."""
    if upload is None:
        return None
    limit = settings.RESULTS_MAX_UPLOAD_BYTES
    if getattr(upload, "size", 0) > limit:
        raise DepositError({"document": f"larger than the limit of {_size(limit)}"})
    return upload.read()


def _digest(fileobj: Any) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def deposit_dataset(
    user: Any,
    *,
    assay: str,
    fmt: str,
    content: bytes | None,
    metadata: Mapping[str, Any] | None = None,
    files: Iterable[Any] = (),
    protocol_document: Any = None,
) -> Dataset:
    """Store a deposit and queue its validation; the row is returned `received`.

    fmt json: `content` is the whole document (metadata, lines, measurements).
    fmt csv | xlsx: `content` is the measurement table, `metadata` the rest.
    `files` are uploaded files (Django UploadedFile or File) kept as the dataset's files;
    a files-only assay (RNA-seq, VCF) needs at least one and no table. `protocol_document`
    is the protocol followed, kept as a file of role `protocol`."""
    problems = {}
    if assay not in Assay.values:
        problems["assay"] = f"unknown assay {assay!r}; use one of: {', '.join(Assay.values)}"
    if fmt not in DepositFormat.values:
        problems["format"] = f"unknown format {fmt!r}; use json, csv or xlsx"
    files = list(files)
    if assay in FILE_ONLY_ASSAYS and not files:
        problems["files"] = "an RNA-seq or VCF dataset is its files: attach at least one"
    if not content and (fmt != DepositFormat.JSON or assay not in FILE_ONLY_ASSAYS):
        problems["document"] = "no measurement table or document was sent"
    if content and len(content) > settings.RESULTS_MAX_UPLOAD_BYTES:
        problems["document"] = f"larger than the limit of {_size(settings.RESULTS_MAX_UPLOAD_BYTES)}"
    if "\\u0000" in orjson.dumps(metadata or {}).decode():
        problems["metadata"] = "a value holds a NUL character (\\u0000), which cannot be stored"
    extra = sorted(set(metadata or {}) - set(METADATA_FIELDS))
    if extra:
        problems["metadata"] = f"unknown field(s) {', '.join(extra)}; allowed: {', '.join(METADATA_FIELDS)}"
    if problems:
        raise DepositError(problems)
    metadata = dict(metadata or {})
    if fmt == DepositFormat.JSON and not content:
        # A files-only deposit by JSON metadata: the document is the metadata itself.
        content = orjson.dumps({**metadata, "assay": assay})
    assert content is not None
    title = metadata.get("title")
    with transaction.atomic():
        dataset = Dataset(
            depositor=user,
            institution=institution_of(user),
            assay=assay,
            title=title[:300] if isinstance(title, str) and title else f"{Assay(assay).label} deposit",
            format=fmt,
            metadata=metadata,
            document_sha256=hashlib.sha256(content).hexdigest(),
        )
        dataset.document.save(f"deposit-{uuid.uuid4().hex}.{fmt}", ContentFile(content), save=False)
        dataset.save()
        uploads = [(upload, "data") for upload in files]
        if protocol_document is not None:
            uploads.append((protocol_document, "protocol"))
        for upload, role in uploads:
            sha256, size = _digest(upload)
            name = getattr(upload, "name", "file").rsplit("/", 1)[-1][:255]
            media_type = getattr(upload, "content_type", None) or mimetypes.guess_type(name)[0]
            row = DatasetFile(
                dataset=dataset,
                name=name,
                sha256=sha256,
                size=size,
                media_type=media_type or "application/octet-stream",
                role=role,
            )
            row.file.save(f"{uuid.uuid4().hex}-{name}", File(upload), save=False)
            row.save()
        transaction.on_commit(lambda: _publish(dataset.pk))
    return dataset


def _publish(dataset_id):
    try:
        validate_dataset.delay(dataset_id)
    except Exception:  # noqa: BLE001 — a broker that is down costs a log line; beat re-queues `received` rows
        logger.warning("could not queue validation of dataset %s", dataset_id, exc_info=True)
