// verifynote checks a checkpoint note with golang.org/x/mod/sumdb/note, the Go reference
// implementation of C2SP signed notes, which the Attest project did not write.
//
//	verifynote VERIFIER-KEY < checkpoint.note
//
// On success it prints the origin, the tree size and the root hash (hex), a line each; on
// failure it prints why to stderr and exits 1.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: verifynote VERIFIER-KEY < checkpoint.note")
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("bad verifier key: %v", err)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading the note: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note refused: %v", err)
	}
	// tlog-checkpoint: origin, tree size and base64 root hash, then optional extension lines.
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("not a checkpoint of %s", verifier.Name())
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		fail("bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		fail("bad root hash %q", lines[2])
	}
	fmt.Printf("%s\n%d\n%s\n", lines[0], size, hex.EncodeToString(root))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "verifynote: "+format+"\n", args...)
	os.Exit(1)
}
