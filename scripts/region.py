"""Prints the AWS region for `make deploy`, `make logs` and `make delete`.

Usage: scripts/region.py SAM_ENV

The region samconfig.toml holds for SAM_ENV (in its deploy or global parameters, where `sam deploy --guided` saves
it), else the one the AWS settings give (AWS_REGION, AWS_DEFAULT_REGION, the profile's); nothing when there is
none. Run with the project's Python (.venv), which has boto3.
"""
import os
import sys
import tomllib

import boto3

env = sys.argv[1] if len(sys.argv) > 1 else "default"
with open("samconfig.toml", "rb") as f:
    config = tomllib.load(f).get(env, {})
for section in ("deploy", "global"):
    region = config.get(section, {}).get("parameters", {}).get("region")
    if region:
        print(region)
        sys.exit(0)
# The SDKs' variable first: boto3 reads AWS_DEFAULT_REGION and the profile.
print(os.environ.get("AWS_REGION") or boto3.session.Session().region_name or "")
