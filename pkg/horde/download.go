package horde

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Image downloads: the Horde sends R2 links (presigned URLs on another host). They are fetched
// with a client that never carries the API key, with retries, a timeout and a size cap.
const (
	downloadAttempts = 3
	downloadTimeout  = 60 * time.Second
)

// imageData returns the bytes of a generation's img field: downloaded when it is a URL, decoded
// when it is base64. url is the link it came from, if any.
func (c *Client) imageData(ctx context.Context, img string) (data []byte, url string, err error) {
	if img == "" {
		return nil, "", errors.New("the generation has no image")
	}
	if strings.HasPrefix(img, "https://") || strings.HasPrefix(img, "http://") {
		data, err := c.Download(ctx, img)
		return data, img, err
	}
	data, err = decodeBase64Image(img)
	return data, "", err
}

// decodeBase64Image decodes standard base64, with or without padding or a data: URL prefix.
func decodeBase64Image(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ","); i >= 0 {
			s = s[i+1:]
		}
	}
	s = strings.TrimSpace(s)
	if data, err := base64.StdEncoding.DecodeString(s); err == nil {
		return data, nil
	}
	data, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("the image is neither a URL nor base64: %w", err)
	}
	return data, nil
}

// Download fetches a generated file (an R2 link) without the API key, retrying transport errors
// and 5xx answers, and refusing files larger than the download limit.
func (c *Client) Download(ctx context.Context, url string) ([]byte, error) {
	var lastErr error
	for attempt := 1; attempt <= downloadAttempts; attempt++ {
		data, retry, err := c.downloadOnce(ctx, url)
		if err == nil {
			return data, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil || attempt == downloadAttempts {
			break
		}
		if err := c.backoff(ctx, attempt, 0); err != nil {
			break
		}
	}
	return nil, fmt.Errorf("horde: downloading %s: %w", redactQuery(url), lastErr)
}

func (c *Client) downloadOnce(ctx context.Context, url string) (data []byte, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := c.download.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer drainAndClose(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
			fmt.Errorf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if resp.ContentLength > c.cfg.downloadMax {
		return nil, false, fmt.Errorf("the file has %d bytes, over the limit of %d", resp.ContentLength, c.cfg.downloadMax)
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, c.cfg.downloadMax+1))
	if err != nil {
		return nil, true, err
	}
	if int64(len(data)) > c.cfg.downloadMax {
		return nil, false, fmt.Errorf("the file is over the limit of %d bytes", c.cfg.downloadMax)
	}
	return data, false, nil
}

// redactQuery drops a URL's query (an R2 link's signature) from what goes into errors and logs.
func redactQuery(url string) string {
	if i := strings.IndexByte(url, '?'); i >= 0 {
		return url[:i] + "?…"
	}
	return url
}

// FetchImage returns the bytes of a generation's img field, whichever form the Horde used: a
// link is downloaded (without the API key), base64 is decoded.
func (c *Client) FetchImage(ctx context.Context, img string) ([]byte, error) {
	data, _, err := c.imageData(ctx, img)
	return data, err
}
