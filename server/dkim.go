package server

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimSigner returns a function that DKIM-signs (RFC 6376) outgoing mail
// with the PEM key in keyFile (RSA or Ed25519, PKCS#8 or PKCS#1). A
// message that can be read twice (the queue's file) is hashed in a first
// pass and sent in a second; go-msgauth's dkim.Sign, used for any other
// reader, holds the whole message in memory (97 MB to sign 17 MB).
func dkimSigner(domain, selector, keyFile string) (func(io.Reader, io.Writer) error, error) {
	if domain == "" || selector == "" {
		return nil, errors.New("dkim: domain and selector are required with key_file")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("dkim: %s: no PEM block", keyFile)
	}
	var signer crypto.Signer
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		var ok bool
		if signer, ok = k.(crypto.Signer); !ok {
			return nil, fmt.Errorf("dkim: %s: unsupported key type", keyFile)
		}
	} else if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		signer = k
	} else {
		return nil, fmt.Errorf("dkim: %s: not a PKCS#8 or PKCS#1 private key", keyFile)
	}
	opts := &dkim.SignOptions{Domain: domain, Selector: selector, Signer: signer,
		HeaderKeys: []string{"From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "MIME-Version", "Content-Type"}}
	return func(r io.Reader, w io.Writer) error {
		if rs, ok := r.(io.ReadSeeker); ok {
			return dkimSignTwoPass(w, rs, opts)
		}
		return dkim.Sign(w, r, opts)
	}, nil
}

// dkimSignTwoPass writes the DKIM-Signature field for the message in rs,
// then the message, reading rs twice from where it stands.
func dkimSignTwoPass(w io.Writer, rs io.ReadSeeker, opts *dkim.SignOptions) error {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("dkim sign: %w", err)
	}
	s, err := dkim.NewSigner(opts)
	if err != nil {
		return fmt.Errorf("dkim sign: %w", err)
	}
	if _, err := io.Copy(s, rs); err != nil {
		s.Close()
		return fmt.Errorf("dkim sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("dkim sign: %w", err)
	}
	if _, err := io.WriteString(w, s.Signature()); err != nil {
		return err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("dkim sign: %w", err)
	}
	_, err = io.Copy(w, rs)
	return err
}

// DKIMKeygen makes a new 2048-bit RSA key, writes it (PKCS#8 PEM, mode
// 0600) to keyFile and returns the DNS TXT record to publish at
// SELECTOR._domainkey.DOMAIN.
func DKIMKeygen(keyFile string) (record string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("dkim keygen: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("dkim keygen: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub), nil
}
