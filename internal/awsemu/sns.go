package awsemu

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Message is one message published to a topic.
type Message struct {
	Subject, Message string
}

type topic struct {
	kmsKey   string
	messages []Message
}

// snsService models Publish, with which the scheduled drift check sends
// its summary.
type snsService struct {
	mu     sync.Mutex
	topics map[string]*topic
	seq    int
}

func newSNS() *snsService { return &snsService{topics: map[string]*topic{}} }

func (s *snsService) operations() map[string]queryOp {
	return map[string]queryOp{"Publish": s.publish}
}

// AddTopic creates a topic; kmsKey, when set, encrypts it (server-side
// encryption), so publishers also need the key.
func (e *Emulator) AddTopic(topicARN, kmsKey string) {
	e.sns.mu.Lock()
	defer e.sns.mu.Unlock()
	e.sns.topics[topicARN] = &topic{kmsKey: kmsKey}
}

// Messages returns what was published to a topic, in order.
func (e *Emulator) Messages(topicARN string) []Message {
	e.sns.mu.Lock()
	defer e.sns.mu.Unlock()
	if t := e.sns.topics[topicARN]; t != nil {
		return append([]Message(nil), t.messages...)
	}
	return nil
}

// maxMessageBytes: "Messages must be UTF-8 encoded strings and at most 256
// KB in size (262,144 bytes, not 262,144 characters)" (Amazon SNS API
// Reference, Publish).
const maxMessageBytes = 262144

// publish: TopicArn (or TargetArn) names the topic; a topic that does not
// exist is NotFound (404). "Subjects must be UTF-8 text with no line
// breaks or control characters, and less than 100 characters long";
// messages "must be UTF-8 encoded strings and at most 256 KB in size
// (262,144 bytes, not 262,144 characters)"; a bad value is InvalidParameter
// (Amazon SNS API Reference, Publish). Publishing to a topic with
// server-side encryption also needs kms:GenerateDataKey* and kms:Decrypt on
// its key (Amazon SNS Developer Guide, "Key management": "publishers must
// have the kms:GenerateDataKey* and kms:Decrypt permissions").
func (s *snsService) publish(c *call, form url.Values) (any, *APIError) {
	target := form.Get("TopicArn")
	if target == "" {
		target = form.Get("TargetArn")
	}
	c.target = target
	if _, err := arn.Parse(target); err != nil {
		return nil, clientError("InvalidParameter", "Invalid parameter: TopicArn")
	}
	subject, message := form.Get("Subject"), form.Get("Message")
	if message == "" {
		return nil, clientError("InvalidParameter", "Invalid parameter: Empty message")
	}
	if len(message) > maxMessageBytes || !utf8.ValidString(message) {
		return nil, clientError("InvalidParameter", "Invalid parameter: Message too long")
	}
	if form.Has("Subject") {
		if subject == "" || !utf8.ValidString(subject) || utf8.RuneCountInString(subject) >= 100 || strings.ContainsFunc(subject, unicode.IsControl) {
			return nil, clientError("InvalidParameter", "Invalid parameter: Subject")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[target]
	if t == nil {
		return nil, withStatus(clientError("NotFound", "Topic does not exist"), http.StatusNotFound)
	}
	if t.kmsKey != "" {
		c.actions = append(c.actions, "kms:GenerateDataKey", "kms:Decrypt")
	}
	t.messages = append(t.messages, Message{Subject: subject, Message: message})
	s.seq++
	return struct {
		MessageID string `xml:"MessageId"`
	}{fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq)}, nil
}
