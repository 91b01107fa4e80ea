"""API keys, for admins."""
from flask import current_app

from grader import auth, storage
from grader.api.base import ApiBlueprint
from grader.schemas import KeyRequestSchema, KeySchema

blp = ApiBlueprint("keys", __name__, description="API keys (admin)")


@blp.route("/keys", methods=["POST"])
@blp.arguments(KeyRequestSchema)
@blp.response(201, KeySchema)
@blp.doc(security=[{"bearer": []}])
@auth.require("admin")
def create_key(body):
    """Create a key; the full key is in this response only."""
    return auth.create_key(storage.session(current_app), **body)
