package sdk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Attribute types, as written in lab.hcl.
const (
	TypeString     = "string"
	TypeNumber     = "number"
	TypeInteger    = "integer" // a number that must be whole
	TypeBool       = "bool"
	TypeListString = "list(string)"
	TypeListNumber = "list(number)"
	TypeMapString  = "map(string)"
	TypeAny        = "any"
	// TypeBlock is a labelled block that may repeat, `environment "prod" { ... }`: a map
	// from label to an object of the Nested attributes.
	TypeBlock = "block"
)

// Attribute is one attribute a stack block accepts.
type Attribute struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Default     any      `json:"default,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	Pattern     string   `json:"pattern,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	// Warnings maps a value to a warning printed when the attribute has it.
	Warnings  map[string]string `json:"warnings,omitempty"`
	Sensitive bool              `json:"sensitive,omitempty"`
	// Path marks a file or folder on the host (tag path:"true"): lab resolves it against
	// the folder of lab.hcl and re-installs the stack when its content changes.
	Path bool `json:"path,omitempty"`
	// Env marks the name of an environment variable the plugin reads (tag env:"true"):
	// lab re-installs the stack when the variable's value changes.
	Env bool `json:"env,omitempty"`
	// BlockLabel names the label of a block type; Nested are the attributes inside it.
	BlockLabel string      `json:"block_label,omitempty"`
	Nested     []Attribute `json:"nested,omitempty"`
}

// SchemaOf derives the schema from a config struct pointer (as Stack.Config returns it).
// Field tags: hcl:"name" (required to be part of the schema), doc:"...", enum:"a,b",
// pattern:"regexp", min:"1", max:"9", required:"true", sensitive:"true", path:"true", env:"true",
// warn:"value=message" (several separated by "|"). A field hcl:"name,block" of type
// map[string]Struct is a labelled block (label:"name" names its label), whose struct's
// fields are the block's attributes.
func SchemaOf(cfg any) ([]Attribute, error) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config must be a pointer to a struct, got %T", cfg)
	}
	v = v.Elem()
	var attrs []Attribute
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		name, block := hclName(f)
		if name == "" || !f.IsExported() {
			continue
		}
		if block {
			a, err := blockOf(f)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			attrs = append(attrs, a)
			continue
		}
		a, err := attributeOf(f, v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		a.Name = name
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// hclName is a field's name in lab.hcl and whether it is a block type.
func hclName(f reflect.StructField) (string, bool) {
	name, opt, _ := strings.Cut(f.Tag.Get("hcl"), ",")
	return name, opt == "block"
}

func blockOf(f reflect.StructField) (Attribute, error) {
	t := f.Type
	if t.Kind() != reflect.Map || t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.Struct {
		return Attribute{}, fmt.Errorf("a block must be a map[string]struct, got %s", t)
	}
	nested, err := SchemaOf(reflect.New(t.Elem()).Interface())
	if err != nil {
		return Attribute{}, err
	}
	label := f.Tag.Get("label")
	if label == "" {
		label = "name"
	}
	name, _ := hclName(f)
	return Attribute{Name: name, Type: TypeBlock, Description: f.Tag.Get("doc"), BlockLabel: label, Nested: nested}, nil
}

func attributeOf(f reflect.StructField, v reflect.Value) (Attribute, error) {
	a := Attribute{
		Type:        typeOf(f.Type),
		Description: f.Tag.Get("doc"),
		Pattern:     f.Tag.Get("pattern"),
		Required:    f.Tag.Get("required") == "true",
		Sensitive:   f.Tag.Get("sensitive") == "true",
		Path:        f.Tag.Get("path") == "true",
		Env:         f.Tag.Get("env") == "true",
	}
	if a.Type == "" {
		return a, fmt.Errorf("unsupported type %s", f.Type)
	}
	if e := f.Tag.Get("enum"); e != "" {
		a.Enum = strings.Split(e, ",")
	}
	for _, b := range []struct {
		tag string
		dst **float64
	}{{"min", &a.Min}, {"max", &a.Max}} {
		if s := f.Tag.Get(b.tag); s != "" {
			n, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return a, fmt.Errorf("%s tag: %w", b.tag, err)
			}
			*b.dst = &n
		}
	}
	if w := f.Tag.Get("warn"); w != "" {
		a.Warnings = map[string]string{}
		for _, kv := range strings.Split(w, "|") {
			k, msg, ok := strings.Cut(kv, "=")
			if !ok {
				return a, fmt.Errorf("warn tag %q: want value=message", kv)
			}
			a.Warnings[k] = msg
		}
	}
	if !a.Required && !v.IsZero() {
		a.Default = v.Interface()
	}
	return a, nil
}

func typeOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return TypeString
	case reflect.Bool:
		return TypeBool
	case reflect.Int, reflect.Int32, reflect.Int64:
		return TypeInteger
	case reflect.Float32, reflect.Float64:
		return TypeNumber
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String:
			return TypeListString
		case reflect.Int, reflect.Int64, reflect.Float64:
			return TypeListNumber
		case reflect.Interface, reflect.Map, reflect.Struct:
			return TypeAny
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return TypeMapString
		}
		if t.Key().Kind() == reflect.String {
			return TypeAny
		}
	case reflect.Interface, reflect.Struct:
		return TypeAny
	}
	return ""
}

// DecodeConfig fills the config struct pointer from the JSON object the host sent,
// matching keys to `hcl` tags. Absent keys keep the struct's defaults.
func DecodeConfig(data []byte, cfg any) error {
	if len(data) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	v := reflect.ValueOf(cfg).Elem()
	for i := 0; i < v.NumField(); i++ {
		name, block := hclName(v.Type().Field(i))
		raw, ok := fields[name]
		if name == "" || !ok || string(raw) == "null" {
			continue
		}
		if block {
			if err := decodeBlocks(raw, v.Field(i)); err != nil {
				return fmt.Errorf("config block %q: %w", name, err)
			}
			continue
		}
		// A fresh value, not the default: unmarshalling into a default map would keep
		// entries the user left out.
		fresh := reflect.New(v.Field(i).Type())
		if err := json.Unmarshal(raw, fresh.Interface()); err != nil {
			return fmt.Errorf("config attribute %q: %w", name, err)
		}
		v.Field(i).Set(fresh.Elem())
	}
	return nil
}

// decodeBlocks fills a map[string]Struct field from {"label": {attributes}}.
func decodeBlocks(raw json.RawMessage, field reflect.Value) error {
	var blocks map[string]json.RawMessage
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return err
	}
	m := reflect.MakeMapWithSize(field.Type(), len(blocks))
	for label, body := range blocks {
		elem := reflect.New(field.Type().Elem())
		if err := DecodeConfig(body, elem.Interface()); err != nil {
			return fmt.Errorf("%q: %w", label, err)
		}
		m.SetMapIndex(reflect.ValueOf(label), elem.Elem())
	}
	field.Set(m)
	return nil
}
