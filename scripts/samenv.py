"""What the Makefile needs to know of a deployed stack, from samconfig.toml and the AWS settings.

Usage (run with the project's Python, .venv, which has boto3):
  scripts/samenv.py region SAM_ENV        the region of make deploy, logs, delete and image-push
  scripts/samenv.py output SAM_ENV NAME [REGION]
                                         the value of the stack's output NAME, from the stack in
                                         REGION when given (make's REGION=), else in the region above

The region is the one samconfig.toml holds for SAM_ENV (in its deploy or global parameters, where
`sam deploy --guided` saves it), else the AWS settings' (AWS_REGION, AWS_DEFAULT_REGION, the profile's).
Prints nothing when there is none.
"""
import os
import sys
import tomllib

import boto3


def settings(env):
    with open("samconfig.toml", "rb") as f:
        config = tomllib.load(f).get(env, {})
    return [config.get(s, {}).get("parameters", {}) for s in ("deploy", "global")]


def region(env):
    for params in settings(env):
        if params.get("region"):
            return params["region"]
    # The SDKs' variable first: boto3 reads AWS_DEFAULT_REGION and the profile.
    return os.environ.get("AWS_REGION") or boto3.session.Session().region_name or ""


def output(env, name, in_region=""):
    stack = next((p["stack_name"] for p in settings(env) if p.get("stack_name")), None)
    cfn = boto3.client("cloudformation", region_name=in_region or region(env) or None)
    for o in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", []):
        if o["OutputKey"] == name:
            return o["OutputValue"]
    return ""


if __name__ == "__main__":
    command, env = sys.argv[1], sys.argv[2]
    print(region(env) if command == "region" else output(env, *sys.argv[3:5]))
