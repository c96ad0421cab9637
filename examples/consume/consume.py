"""A minimal reader of the callback queue: receives the events, fetches each attachment from S3, and deletes an
event only once it is handled, so that a failure leaves it for a retry (and, after five, for the dead-letter queue).

    QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/speechmatics-callbacks-Queue-abc python3 consume.py

Needs boto3. The message body is described by schema/callback-event.schema.json.
"""
import json
import os
import sys

import boto3


def handle(s3, body):
    """Events of a job come in any order and may repeat: key what you keep on the job ID and each attachment's
    content, and treat a sha256 you have seen as a duplicate."""
    event = json.loads(body)
    if event.get("version") != 1:
        raise ValueError("not a version 1 callback event")
    print(f"job {event['job_id']}: {event['status']}, {len(event['attachments'])} attachments")
    for a in event["attachments"]:
        data = s3.get_object(Bucket=a["bucket"], Key=a["key"])["Body"].read()  # your processing goes here
        print(f"  {a['content']}: s3://{a['bucket']}/{a['key']}, {len(data)} bytes")


def main(once=False):
    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    queue_url = os.environ["QUEUE_URL"]
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=0 if once else 20).get("Messages", [])
        for m in messages:
            try:
                handle(s3, m["Body"])
            except Exception as e:  # left for a retry
                print(f"message {m['MessageId']}: {e}", file=sys.stderr)
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        if once:
            return


if __name__ == "__main__":
    main(once="--once" in sys.argv)
