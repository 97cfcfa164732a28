"""Write operations.json: the operations the portal calls, cut from twilio/twilio-oai.

    python tests/fakes/twilio_oai/extract.py SPEC_DIR COMMIT

SPEC_DIR holds twilio-oai's spec/json files. Each operation keeps its path and
query parameters and its form body, with every $ref resolved, so the tests can
check requests without the 10 MB of the whole definitions.
"""

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = [
    ("twilio_api_v2010", "/2010-04-01/Accounts/{AccountSid}/Messages.json", "post"),
    ("twilio_api_v2010", "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json", "get"),
    ("twilio_api_v2010", "/2010-04-01/Accounts/{Sid}.json", "get"),
    ("twilio_api_v2010", "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", "get"),
    ("twilio_messaging_v1", "/v1/Services/{Sid}", "get"),
    ("twilio_messaging_v1", "/v1/Services/{MessagingServiceSid}/Compliance/Usa2p", "get"),
    ("twilio_messaging_v1", "/v1/Tollfree/Verifications", "get"),
    ("twilio_content_v1", "/v1/Content/{Sid}/ApprovalRequests", "get"),
    ("twilio_pricing_v1", "/v1/Messaging/Countries/{IsoCountry}", "get"),
]


def resolve(node: Any, spec: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, spec)
        return {k: resolve(v, spec) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [resolve(v, spec) for v in node]
    return node


def main(spec_dir: str, commit: str) -> None:
    operations = []
    for name, path, method in OPERATIONS:
        spec = json.loads((Path(spec_dir) / f"{name}.json").read_text())
        op = resolve(spec["paths"][path][method], spec)
        form = (
            op.get("requestBody", {})
            .get("content", {})
            .get("application/x-www-form-urlencoded", {})
            .get("schema", {})
        )
        operations.append({
            "spec": name, "path": path, "method": method.upper(),
            "parameters": [
                {k: p[k] for k in ("name", "in", "required", "schema") if k in p}
                for p in op.get("parameters", [])
            ],
            "form": {"properties": form.get("properties", {}),
                     "required": form.get("required", [])},
        })  # fmt: skip
    out = {"source": f"github.com/twilio/twilio-oai@{commit}", "operations": operations}
    target = Path(__file__).with_name("operations.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
