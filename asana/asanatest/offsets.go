package asanatest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// Offsets look like Asana's: a signed JWT whose payload the client must not
// read. Asana's carry {"border_rank","iat","exp"} with exp-iat = 900s; ours
// carry the gid the next page starts after, so pages stay consistent while
// the organisation drifts, and the page number, for fault injection.
type offsetClaims struct {
	Path  string `json:"path"` // the listing this offset belongs to
	After string `json:"border_rank"`
	Page  int    `json:"page"` // 1-based number of the page it fetches
	IAT   int64  `json:"iat"`
	EXP   int64  `json:"exp"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))

// offsetError is an offset rejection; its text is Asana's message, which
// ends in a full stop unlike Go error strings.
type offsetError string

func (e offsetError) Error() string { return string(e) }

const (
	errOffsetInvalid offsetError = "offset: Your pagination token is invalid."
	errOffsetExpired offsetError = "offset: Your pagination token has expired."
)

type offsetSigner struct{ key []byte }

func newOffsetSigner() offsetSigner {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return offsetSigner{key: key}
}

func (s offsetSigner) sign(c offsetClaims) string {
	payload, _ := json.Marshal(c)
	unsigned := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(s.mac(unsigned))
}

func (s offsetSigner) mac(unsigned string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(unsigned))
	return m.Sum(nil)
}

// verify returns the claims of a token this server issued for path, or
// errOffsetInvalid / errOffsetExpired.
func (s offsetSigner) verify(token, path string, now time.Time) (offsetClaims, error) {
	var c offsetClaims
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return c, errOffsetInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil || !hmac.Equal(sig, s.mac(token[:dot])) {
		return c, errOffsetInvalid
	}
	_, payload, _ := strings.Cut(token[:dot], ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Path != path {
		return c, errOffsetInvalid
	}
	if now.Unix() >= c.EXP {
		return c, errOffsetExpired
	}
	return c, nil
}
