package keras_test

import (
	"fmt"
	"log"

	"github.com/cifarlab/cifarlab/keras"
)

// A learning-rate schedule is the optimizer's learning rate, as in Keras's
// keras.optimizers.Nadam(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.5)).
func ExampleOptimizer_WithSchedule() {
	m, err := keras.Sequential([]int{8}, keras.Dense(3, keras.Softmax))
	if err != nil {
		log.Fatal(err)
	}
	schedule := keras.ExponentialDecay{InitialLearningRate: 0.01, DecaySteps: 100, DecayRate: 0.5}
	err = m.Compile(keras.CompileConfig{
		Optimizer: keras.Nadam(0).WithSchedule(schedule),
		Loss:      keras.LossCategoricalCrossentropy,
	})
	if err != nil {
		log.Fatal(err)
	}
	lr, _ := m.LearningRate()
	fmt.Printf("before training %.4g, after 100 steps %.4g, after 300 %.4g\n", lr, schedule.At(100), schedule.At(300))
	// Output: before training 0.01, after 100 steps 0.005, after 300 0.00125
}

// The book's 1cycle schedule over 100 steps: up from MaxRate/10 to MaxRate, down again, then to a
// thousandth of the start in the last 11 steps.
func ExampleOneCycleScheduler() {
	cycle := &keras.OneCycleScheduler{Iterations: 100, MaxRate: 0.05}
	for _, step := range []int{0, 22, 44, 66, 88, 99} {
		fmt.Printf("step %d: %.3g\n", step, cycle.Rate(step))
	}
	// Output:
	// step 0: 0.005
	// step 22: 0.0275
	// step 44: 0.05
	// step 66: 0.0275
	// step 88: 0.005
	// step 99: 0.000421
}
