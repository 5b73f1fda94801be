"""GCP: an external OIDC issuer (``access.issuer: external``).

Google's own sign-in does not fit the role model: Google ID tokens carry no groups claim, and the IAP
OAuth admin API that created OAuth clients (``google_iap_brand`` / ``google_iap_client``) is deprecated,
so a program cannot make the client either. Teams on GCP connect the IdP they already run (Google
Workspace through a broker such as Keycloak or Dex, Okta, Entra ID) with three keys: ``issuerUrl``,
``clientId`` and the secret ``mlops:accessClientSecret``. The cluster side is the same as elsewhere.
"""

from __future__ import annotations

from components.access import ExternalIssuer

__all__ = ["ExternalIssuer"]
