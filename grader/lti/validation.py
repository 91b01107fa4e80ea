"""What pylti1p3 leaves to the tool: the id_token's audience and authorized party as OpenID Connect
Core 3.1.3.7 says (several audiences need azp; azp must be among them and is then the client id),
and target_link_uri, which must be this tool's launch URL (LTI 1.3 core 5.1.1.5, Security 5.1.1.1)."""
from __future__ import annotations

from urllib.parse import urlsplit

from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.deep_link import DeepLink
from pylti1p3.exception import LtiMessageValidationException

TARGET_LINK_URI = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def same_target(uri: str | None, launch_url: str) -> bool:
    """Scheme, host, port and path equal (a query string may carry the link's own parameters)."""
    if not uri:
        return False
    a, b = urlsplit(uri), urlsplit(launch_url)
    return (a.scheme.lower(), a.netloc.lower(), a.path.rstrip("/")) == \
        (b.scheme.lower(), b.netloc.lower(), b.path.rstrip("/"))


def client_id_of(body: dict) -> str:
    """The client id an id_token is for: azp when present (and then among the audiences), else the
    only audience; several audiences without azp are refused."""
    aud = body.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud or [])
    azp = body.get("azp")
    if azp is not None:
        if azp not in audiences:
            raise LtiMessageValidationException("The id_token's azp is not one of its audiences.")
        return azp
    if len(audiences) != 1:
        raise LtiMessageValidationException("The id_token names several audiences and no azp.")
    return audiences[0]


class Launch(FlaskMessageLaunch):
    """FlaskMessageLaunch that also checks azp and target_link_uri; expect(url) before validating."""

    launch_url: str | None = None

    def expect(self, launch_url: str) -> "Launch":
        self.launch_url = launch_url
        return self

    def get_client_id(self) -> str:
        return client_id_of(self._get_jwt_body())

    def validate_message(self):
        super().validate_message()
        target = self._get_jwt_body().get(TARGET_LINK_URI)
        if self.launch_url is not None and not same_target(target, self.launch_url):
            raise LtiMessageValidationException(
                f"target_link_uri {target!r} is not this tool's launch URL {self.launch_url}.")
        return self

    def get_deep_link(self) -> DeepLink:
        link = super().get_deep_link()
        return ResponseLink(link._registration, link._deployment_id, link._deep_link_settings)


class ResponseLink(DeepLink):
    """The Deep Linking response carries the request's data claim back only when it had one
    (Deep Linking 2.0, 4.4.5: it MUST be the same value; absent stays absent, never null)."""

    def get_message_jwt(self, resources):
        message = super().get_message_jwt(resources)
        if self._deep_link_settings.get("data") is None:
            message.pop(DL_DATA, None)
        return message
