"""Who may call the files deployable (files sheet A.4; DESIGN §3, §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
FILES needs an entry, or tools/deploy/tests/test_method_tables.py fails.

Any authenticated identity may use Files through the Gateway: holding a file's id is the
capability (A.8-1). Threads asks whether the files a message names exist; the Media Proxy
reads files for browsers after its own check.
"""

from agyn_common.access import AccessBuilder, IdentityRule

FILES = "agynio.api.files.v1.FilesService"

ACCESS = (
    AccessBuilder("files")
    .through_gateway(FILES)
    .allow(FILES, ["GetFileMetadata"], callers=["threads"], identity=IdentityRule.NONE)
    .allow(FILES, ["GetFileMetadata", "GetFileContent"], callers=["media-proxy"], identity=IdentityRule.NONE)
    .build()
)
