package cache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
)

// sealer encrypts each cached object with AES-256-GCM. The additional data
// binds a ciphertext to its table and id, so rows cannot be swapped.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("cache: key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(kind, id string, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: encode %s: %w", kind, err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("cache: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(kind+":"+id)), nil
}

// errSealBroken means a row does not open under this key: the key changed or
// the file was tampered with.
var errSealBroken = errors.New("cache: sealed data does not open with this key")

func (s *sealer) open(kind, id string, sealed []byte, v any) error {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return errSealBroken
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(kind+":"+id))
	if err != nil {
		return errSealBroken
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("cache: decode %s: %w", kind, err)
	}
	return nil
}
