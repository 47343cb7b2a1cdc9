"""Runs gcp-storage-emulator with GCS's XML API multipart upload added.

The emulator answers 501 to the four multipart calls (initiate, upload part,
complete, abort), and opendal's GCS writer uploads large objects with them. This
adds them to the emulator's routing table, then starts it with the usual CLI
(`start --host ... --port ...`). Parts live in memory until the upload completes
or is aborted; the completed object is stored as the emulator's own simple XML
PUT stores one, so every other call sees it.
"""

import hashlib
import secrets
import sys
import xml.etree.ElementTree as ET
from http import HTTPStatus
from urllib.parse import parse_qs, quote, urlparse
from xml.sax.saxutils import escape

from gcp_storage_emulator import __main__ as cli
from gcp_storage_emulator import server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects

# GCS's limits on parts: https://cloud.google.com/storage/quotas
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

# upload id -> {"bucket", "object", "content_type", "parts": {number: (etag, data)}}.
# No lock: the emulator's HTTPServer serves one request at a time.
UPLOADS = {}


def _query(request):
    # The emulator's own request.query drops valueless keys such as `?uploads`.
    return parse_qs(urlparse(request.full_url).query, keep_blank_values=True)


def _xml(response, status, body):
    response.status = status
    document = '<?xml version="1.0" encoding="UTF-8"?>' + body
    response.write_file(document.encode(), "application/xml; charset=UTF-8")


def _error(response, status, code, message):
    body = "<Error><Code>{}</Code><Message>{}</Message></Error>"
    _xml(response, status, body.format(code, escape(message)))


def _no_such_bucket(response):
    _error(
        response,
        HTTPStatus.NOT_FOUND,
        "NoSuchBucket",
        "The specified bucket does not exist.",
    )


def _upload(request, response, upload_id):
    """The upload `upload_id` names, if it is one for this bucket and object."""
    upload = UPLOADS.get(upload_id)
    params = request.params
    if upload is None or (upload["bucket"], upload["object"]) != (
        params["bucket_name"],
        params["object_id"],
    ):
        _error(
            response,
            HTTPStatus.NOT_FOUND,
            "NoSuchUpload",
            "The requested upload was not found.",
        )
        return None
    return upload


def initiate(request, response, storage):
    bucket, name = request.params["bucket_name"], request.params["object_id"]
    if storage.get_bucket(bucket) is None:
        return _no_such_bucket(response)
    upload_id = secrets.token_urlsafe(32)
    # GCS takes the object's metadata from this request. Like the emulator's
    # simple PUT, this keeps only its Content-Type.
    UPLOADS[upload_id] = {
        "bucket": bucket,
        "object": name,
        "content_type": request.get_header("Content-Type", "application/octet-stream"),
        "parts": {},
    }
    _xml(
        response,
        HTTPStatus.OK,
        '<InitiateMultipartUploadResult xmlns="{}"><Bucket>{}</Bucket><Key>{}</Key>'
        "<UploadId>{}</UploadId></InitiateMultipartUploadResult>".format(
            XMLNS, escape(bucket), escape(name), upload_id
        ),
    )


def upload_part(request, response, storage, upload_id, part_number):
    upload = _upload(request, response, upload_id)
    if upload is None:
        return
    if not part_number.isdigit() or not 1 <= int(part_number) <= MAX_PART_NUMBER:
        _error(
            response,
            HTTPStatus.BAD_REQUEST,
            "InvalidArgument",
            "Part number must be an integer between 1 and {}.".format(MAX_PART_NUMBER),
        )
        return
    data = request.data or b""
    etag = '"{}"'.format(hashlib.md5(data).hexdigest())
    # Sending a part number again replaces that part, as on GCS.
    upload["parts"][int(part_number)] = (etag, data)
    response["ETag"] = etag


def _listed_parts(body):
    """(number, etag) pairs of a CompleteMultipartUpload body, in their order."""
    parts = []
    for part in ET.fromstring(body):
        if _local_name(part) != "Part":
            continue
        fields = {_local_name(child): (child.text or "").strip() for child in part}
        parts.append((int(fields["PartNumber"]), fields["ETag"]))
    return parts


def _local_name(element):
    """The tag without its namespace: clients may or may not send one."""
    return element.tag.rsplit("}", 1)[-1]


def complete(request, response, storage, upload_id):
    upload = _upload(request, response, upload_id)
    if upload is None:
        return
    try:
        listed = _listed_parts(request.data or b"")
    except (ET.ParseError, KeyError, ValueError):
        listed = []
    if not listed:
        _error(
            response,
            HTTPStatus.BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate.",
        )
        return

    numbers = [number for number, _ in listed]
    if any(a >= b for a, b in zip(numbers, numbers[1:])):
        _error(
            response,
            HTTPStatus.BAD_REQUEST,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be "
            "specified in order by part number.",
        )
        return
    uploaded = upload["parts"]
    if any(
        number not in uploaded or uploaded[number][0].strip('"') != etag.strip('"')
        for number, etag in listed
    ):
        _error(
            response,
            HTTPStatus.BAD_REQUEST,
            "InvalidPart",
            "One or more of the specified parts could not be found. The part might "
            "not have been uploaded, or the specified entity tag might not have "
            "matched the part's entity tag.",
        )
        return
    if any(len(uploaded[number][1]) < MIN_PART_SIZE for number in numbers[:-1]):
        _error(
            response,
            HTTPStatus.BAD_REQUEST,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed object size.",
        )
        return

    bucket, name = upload["bucket"], upload["object"]
    content = b"".join(uploaded[number][1] for number in numbers)
    # As objects.xml_upload stores a simple PUT. GCS gives a multipart object a
    # CRC32C but no MD5; the emulator's download needs one, so it keeps both.
    obj = objects._make_object_resource(
        request.base_url, bucket, name, upload["content_type"], str(len(content))
    )
    try:
        storage.create_file(bucket, name, content, objects._checksums(content, obj))
    except NotFound:
        return _no_such_bucket(response)
    # The parts are gone once the upload completes, listed or not.
    del UPLOADS[upload_id]

    digests = b"".join(bytes.fromhex(uploaded[n][0].strip('"')) for n in numbers)
    etag = '"{}-{}"'.format(hashlib.md5(digests).hexdigest(), len(numbers))
    location = "{}/{}/{}".format(request.base_url, bucket, quote(name))
    _xml(
        response,
        HTTPStatus.OK,
        '<CompleteMultipartUploadResult xmlns="{}"><Location>{}</Location>'
        "<Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag>"
        "</CompleteMultipartUploadResult>".format(
            XMLNS, escape(location), escape(bucket), escape(name), escape(etag)
        ),
    )


def abort(request, response, storage, upload_id):
    if _upload(request, response, upload_id) is None:
        return
    del UPLOADS[upload_id]
    response.status = HTTPStatus.NO_CONTENT


def _post(request, response, storage, *args, **kwargs):
    query = _query(request)
    if "uploads" in query:
        return initiate(request, response, storage)
    if "uploadId" in query:
        return complete(request, response, storage, query["uploadId"][0])
    response.status = HTTPStatus.NOT_IMPLEMENTED


def _put(request, response, storage, *args, **kwargs):
    query = _query(request)
    if "uploadId" in query:
        upload_id, part_number = query["uploadId"][0], query.get("partNumber", [""])[0]
        return upload_part(request, response, storage, upload_id, part_number)
    return objects.xml_upload(request, response, storage, *args, **kwargs)


def _delete(request, response, storage, *args, **kwargs):
    query = _query(request)
    if "uploadId" in query:
        return abort(request, response, storage, query["uploadId"][0])
    response.status = HTTPStatus.NOT_IMPLEMENTED


def _add_routes():
    """Gives the XML object route (`/{bucket}/{object}`) the multipart calls."""
    routes = []
    found = False
    for regex, handlers in server.HANDLERS:
        if handlers.get(server.PUT) is objects.xml_upload:
            handlers = {
                **handlers,
                server.PUT: _put,
                server.POST: _post,
                server.DELETE: _delete,
            }
            found = True
        routes.append((regex, handlers))
    if not found:
        sys.exit("gcs_emulator.py: no XML object route in this gcp-storage-emulator")
    server.HANDLERS = tuple(routes)


if __name__ == "__main__":
    _add_routes()
    cli.main(sys.argv[1:])
