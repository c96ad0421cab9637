package reconcile_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"smcallbacks/internal/callback"
	"smcallbacks/internal/callback/callbacktest"
	"smcallbacks/internal/mototest"
	"smcallbacks/internal/s3store"
	"smcallbacks/internal/sqsqueue"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// awsSinks are the deployed sinks, against moto: S3 for objects and the
// state, SQS for events, read back through a proxy that records every send.
type awsSinks struct {
	moto   *mototest.Server
	proxy  *mototest.FaultProxy
	bucket string
	store  *s3store.Store
	queue  *sqsqueue.Queue
	index  *s3store.Index
	state  *s3store.Blob
}

func newAWSSinks(t *testing.T) *awsSinks {
	moto := mototest.Get(t)
	a := &awsSinks{moto: moto, proxy: moto.NewFaultProxy(t), bucket: moto.Bucket(t)}
	sqsClient := proxiedSQS(moto, a.proxy)
	a.store = s3store.New(moto.S3(), a.bucket)
	a.queue = sqsqueue.New(sqsClient, moto.Queue(t, false))
	a.index = s3store.NewIndex(moto.S3(), a.bucket)
	a.state = s3store.NewBlob(moto.S3(), a.bucket, "tx/.reconciler/state.json")
	return a
}

// events returns every event sent so far, in order.
func (a *awsSinks) events(t *testing.T) []*callback.Event {
	var evs []*callback.Event
	for _, m := range a.proxy.Sends(t) {
		callbacktest.CheckEventSchema(t, []byte(m.MessageBody))
		var ev callback.Event
		if err := json.Unmarshal([]byte(m.MessageBody), &ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, &ev)
	}
	return evs
}

// object returns the bytes stored at key, nil when there are none.
func (a *awsSinks) object(t *testing.T, key string) []byte {
	out, err := a.moto.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &a.bucket, Key: &key})
	if err != nil {
		return nil
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// secretsFound names every object and message that holds a secret.
func (a *awsSinks) secretsFound(t *testing.T) []string {
	var found []string
	list, err := a.moto.S3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &a.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		if containsSecret(string(a.object(t, *o.Key))) {
			found = append(found, "s3://"+a.bucket+"/"+*o.Key)
		}
	}
	for _, m := range a.proxy.Sends(t) {
		if containsSecret(m.MessageBody) {
			found = append(found, "a queued message")
		}
	}
	return found
}

// proxiedSQS is an SQS client that talks to moto through proxy.
func proxiedSQS(moto *mototest.Server, proxy *mototest.FaultProxy) *sqs.Client {
	return sqs.NewFromConfig(moto.Config(), func(o *sqs.Options) { o.BaseEndpoint = &proxy.URL })
}
