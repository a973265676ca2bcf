"""A TeacherLM student trainer that learns continuously from the augmented Kafka topic."""
