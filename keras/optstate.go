package keras

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
)

// OptimizerState is the optimizer's state between two steps, what a Fit that continues a training
// needs besides the weights and the learning rate: the step count (Keras's optimizer.iterations,
// which also draws the next Fit's shuffle and dropout masks), Nadam's product of its momentum
// schedule, and the slots of every weight (SGD with momentum: its momentum; Adam, Nadam: momentum
// and velocity; RMSprop: velocity). Save keeps it and Load restores it, so that a loaded model
// trains on as the saved one would have.
type OptimizerState struct {
	Iterations int64   `json:"iterations"`
	UProduct   float32 `json:"u_product,omitempty"` // Nadam only
	// Slots holds, for every layer with weights and slot name, the slot's values for the layer's
	// kernel and bias (BatchNormalization: its gamma and beta), named "LAYER/SLOT" (e.g.
	// "dense/momentum"), in layer order then slot order.
	Slots []LayerWeights `json:"-"`
}

// slotNames are the per-weight slots of an optimizer, in the order the updater keeps them.
func slotNames(cfg Optimizer) []string {
	switch cfg.Name {
	case OptimizerSGD:
		if cfg.Momentum != 0 {
			return []string{"momentum"}
		}
	case OptimizerAdam, OptimizerNadam:
		return []string{"momentum", "velocity"}
	case OptimizerRMSprop:
		return []string{"velocity"}
	}
	return nil
}

// OptimizerState returns a copy of the optimizer's state. A model that has not trained since it
// was compiled (or initialized) has a fresh state: 0 steps, no slots (they start at zero).
func (m *Model) OptimizerState() (*OptimizerState, error) {
	if m.compiled == nil {
		return nil, errNotCompiled
	}
	if m.engine == nil || m.engine.upd == nil {
		if m.optState != nil {
			s := *m.optState
			s.Slots = slices.Clone(s.Slots)
			return &s, nil
		}
		return &OptimizerState{}, nil
	}
	u := m.engine.upd
	t, err := u.iter.Value()
	if err != nil {
		return nil, errorf("reading the optimizer's step count: %w", err)
	}
	s := &OptimizerState{Iterations: tensors.ToScalar[int64](t)}
	if u.uProd != nil {
		p, err := u.uProd.Value()
		if err != nil {
			return nil, errorf("reading Nadam's momentum product: %w", err)
		}
		s.UProduct = tensors.ToScalar[float32](p)
	}
	names := slotNames(u.cfg)
	for layer, lv := range m.weights {
		for j, name := range names {
			kernel, err := variableData(u.slots[2*layer][j])
			if err != nil {
				return nil, errorf("reading the optimizer's %s of %s: %w", name, lv.name, err)
			}
			bias, err := variableData(u.slots[2*layer+1][j])
			if err != nil {
				return nil, errorf("reading the optimizer's %s of %s: %w", name, lv.name, err)
			}
			s.Slots = append(s.Slots, LayerWeights{Name: lv.name + "/" + name, Kernel: kernel,
				KernelShape: lv.kernel.Shape().Dimensions, Bias: bias})
		}
	}
	return s, nil
}

// SetOptimizerState replaces the optimizer's state with a copy of s, which must come from
// OptimizerState of a model with the same architecture and optimizer (or have no slots: they are
// then zero). The model must be compiled; compiling again resets the state.
func (m *Model) SetOptimizerState(s *OptimizerState) error {
	if m.compiled == nil {
		return errNotCompiled
	}
	if s == nil || s.Iterations < 0 {
		return errorf("SetOptimizerState: no state, or a negative step count")
	}
	names := slotNames(m.compiled.cfg.Optimizer)
	if len(s.Slots) != 0 {
		if len(s.Slots) != len(names)*len(m.weights) {
			return errorf("SetOptimizerState: %d slots, the %s optimizer of %d layers with weights has %d",
				len(s.Slots), m.compiled.cfg.Optimizer.Name, len(m.weights), len(names)*len(m.weights))
		}
		for layer, lv := range m.weights {
			for j, name := range names {
				sl := s.Slots[layer*len(names)+j]
				want := lv.kernel.Shape().Dimensions
				if sl.Name != lv.name+"/"+name || !slices.Equal(sl.KernelShape, want) || len(sl.Kernel) != product(want) || len(sl.Bias) != lv.bias.Shape().Size() {
					return errorf("SetOptimizerState: slot %q (kernel %v, %d biases) does not fit %s/%s (kernel %v, %d biases)",
						sl.Name, sl.KernelShape, len(sl.Bias), lv.name, name, want, lv.bias.Shape().Size())
				}
			}
		}
	}
	copied := *s
	copied.Slots = slices.Clone(s.Slots)
	if m.engine == nil || m.engine.upd == nil {
		m.optState = &copied // applied when the engine is built
		return nil
	}
	return m.engine.upd.setState(&copied, names)
}

// setState writes a checked state into the optimizer's variables.
func (u *updater) setState(s *OptimizerState, names []string) error {
	if err := u.iter.SetValue(tensors.FromScalar(s.Iterations)); err != nil {
		return fmt.Errorf("keras: setting the optimizer's step count: %w", err)
	}
	if u.uProd != nil {
		p := s.UProduct
		if p == 0 {
			p = 1 // a fresh product
		}
		if err := u.uProd.SetValue(tensors.FromScalar(p)); err != nil {
			return fmt.Errorf("keras: setting Nadam's momentum product: %w", err)
		}
	}
	if len(s.Slots) == 0 { // a fresh state: zero slots
		for _, slots := range u.slots {
			for _, v := range slots {
				if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
					return fmt.Errorf("keras: resetting the optimizer's slots: %w", err)
				}
			}
		}
	}
	for i, sl := range s.Slots {
		layer, j := i/len(names), i%len(names)
		if err := setVariable(u.slots[2*layer][j], sl.Kernel); err != nil {
			return fmt.Errorf("keras: setting the optimizer's slot %s: %w", sl.Name, err)
		}
		if err := setVariable(u.slots[2*layer+1][j], sl.Bias); err != nil {
			return fmt.Errorf("keras: setting the optimizer's slot %s: %w", sl.Name, err)
		}
	}
	return nil
}
