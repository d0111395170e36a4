# Checks an SPDX 2.3 JSON document with tools kb did not write: license expressions through nexB's
# license-expression (Debian python3-license-expression, ScanCode's SPDX license index), and the SPDX 2.3
# spec's mandatory fields and formats (clauses 6 and 7, 11 relationships), read from the spec, not from kb.
# pyspdxtools is not installable here (no PyPI) and no npm or Debian package ships the SPDX 2.3 JSON schema.
# Usage: _spdx-check.py DOC.json   (prints "OK n packages" or the problems, exit 1)
import json, re, sys
from urllib.parse import urlparse
from license_expression import get_spdx_licensing

doc = json.load(open(sys.argv[1]))
problems = []
def need(cond, what):
    if not cond: problems.append(what)

ID = re.compile(r"^SPDXRef-[A-Za-z0-9.\-]+$")
need(doc.get("spdxVersion") == "SPDX-2.3", "6.1 spdxVersion must be SPDX-2.3")
need(doc.get("dataLicense") == "CC0-1.0", "6.2 dataLicense must be CC0-1.0")
need(doc.get("SPDXID") == "SPDXRef-DOCUMENT", "6.3 SPDXID must be SPDXRef-DOCUMENT")
need(isinstance(doc.get("name"), str) and doc["name"], "6.4 name required")
ns = urlparse(doc.get("documentNamespace", ""))
need(ns.scheme in ("http", "https") and ns.netloc and "#" not in doc.get("documentNamespace", ""), "6.5 documentNamespace must be an absolute URI without #")
ci = doc.get("creationInfo", {})
need(all(re.match(r"^(Tool|Organization|Person): .+", c) for c in ci.get("creators", [])) and ci.get("creators"), "6.8 creators: 'Tool: x' etc")
need(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", ci.get("created", "")) is not None, "6.9 created must be YYYY-MM-DDThh:mm:ssZ")

licensing = get_spdx_licensing()
refs = {x["licenseId"] for x in doc.get("hasExtractedLicensingInfos", [])}
for x in doc.get("hasExtractedLicensingInfos", []):
    need(re.match(r"^LicenseRef-[A-Za-z0-9.\-]+$", x["licenseId"]) and x.get("extractedText"), f"10.1 bad extracted license {x}")
def check_license(expr, where):
    if expr in ("NOASSERTION", "NONE"): return
    r = licensing.validate(expr, strict=True)
    unknown = [s for s in r.invalid_symbols if not str(s).startswith("LicenseRef-")]
    need(not r.errors or (not unknown and all("LicenseRef-" in e for e in r.errors)), f"{where}: license {expr!r}: {r.errors}")
    for sym in re.findall(r"LicenseRef-[A-Za-z0-9.\-]+", expr):
        need(sym in refs, f"{where}: {sym} is not defined in hasExtractedLicensingInfos")

PURL = re.compile(r"^pkg:[a-z][a-z0-9.+\-]*/[^@?#]+(@[^?#]+)?(\?[^#]+)?(#.*)?$")
ids = set()
for p in doc.get("packages", []):
    w = f"package {p.get('SPDXID')}"
    need(isinstance(p.get("name"), str) and p["name"], f"{w}: 7.1 name required")
    need(ID.match(p.get("SPDXID", "")) is not None, f"{w}: 7.2 SPDXID format")
    need(p["SPDXID"] not in ids, f"{w}: SPDXID repeated")
    ids.add(p["SPDXID"])
    need("downloadLocation" in p, f"{w}: 7.7 downloadLocation required")
    if p.get("filesAnalyzed", True) is False:
        need("packageVerificationCode" not in p, f"{w}: 7.9 no verification code when filesAnalyzed is false")
    for c in p.get("checksums", []):
        need(c["algorithm"] == "SHA256" and re.match(r"^[0-9a-f]{64}$", c["checksumValue"]), f"{w}: 7.10 checksum")
    check_license(p.get("licenseConcluded", "NOASSERTION"), w)
    check_license(p.get("licenseDeclared", "NOASSERTION"), w)
    for r in p.get("externalRefs", []):
        if r["referenceType"] == "purl":
            need(r["referenceCategory"] == "PACKAGE-MANAGER" and PURL.match(r["referenceLocator"]), f"{w}: 7.21 purl {r['referenceLocator']!r}")
    if "primaryPackagePurpose" in p:
        need(p["primaryPackagePurpose"] in {"APPLICATION","FRAMEWORK","LIBRARY","CONTAINER","OPERATING-SYSTEM","DEVICE","FIRMWARE","SOURCE","ARCHIVE","FILE","INSTALL","OTHER"}, f"{w}: 7.24 purpose")
ids.add("SPDXRef-DOCUMENT")
for r in doc.get("relationships", []):
    need(r["spdxElementId"] in ids and r["relatedSpdxElement"] in ids, f"11.1 relationship to unknown element {r}")
    need(r["relationshipType"] in {"DESCRIBES","CONTAINS","DESCENDANT_OF","DEPENDS_ON","GENERATED_FROM"}, f"11.1 type {r['relationshipType']}")
need(any(r["relationshipType"] == "DESCRIBES" and r["spdxElementId"] == "SPDXRef-DOCUMENT" for r in doc.get("relationships", [])), "6 the document must DESCRIBE a package")

if problems:
    print("\n".join(problems[:50]))
    sys.exit(1)
print(f"OK {len(doc.get('packages', []))} packages")
